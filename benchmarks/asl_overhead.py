"""Interpreter overhead: transitions per second of scones' ASL interpreter vs moto's, side by side.

Three definitions: a long Pass chain, an inline Map over 1,000 items and a
Parallel fan-out. Each runs a few times in both interpreters in this process;
the best run counts. moto (an embedded copy of LocalStack's interpreter) is
driven through boto3 in ``mock_aws`` with execution enabled, as
``shared/tools/asl-conformance/moto_adapter.py`` does.

Targets (issue 5): >= 10x moto's throughput, <= 50 us per transition.
A "transition" is one state entered (Map iterations and branches included).

    python benchmarks/asl_overhead.py [--repeat 3] [--skip-moto]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

CHAIN = 2000
MAP_ITEMS = 1000
BRANCHES = 100
BRANCH_DEPTH = 5


def pass_chain() -> tuple[dict[str, Any], Any, int]:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(CHAIN - 1)}
    states[f"S{CHAIN - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": states}, {"order": 1, "items": [1, 2, 3]}, CHAIN


def map_items() -> tuple[dict[str, Any], Any, int]:
    definition = {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Double", "States": {
            "Double": {"Type": "Pass", "Parameters": {"v.$": "$.value"}, "End": True}}},
        "End": True}}}
    return definition, {"items": list(range(MAP_ITEMS))}, 1 + MAP_ITEMS


def parallel_fanout() -> tuple[dict[str, Any], Any, int]:
    def branch(b: int) -> dict[str, Any]:
        states = {f"B{b}S{i}": {"Type": "Pass", "Next": f"B{b}S{i + 1}"} for i in range(BRANCH_DEPTH - 1)}
        states[f"B{b}S{BRANCH_DEPTH - 1}"] = {"Type": "Pass", "End": True}
        return {"StartAt": f"B{b}S0", "States": states}
    definition = {"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": True,
                                                       "Branches": [branch(b) for b in range(BRANCHES)]}}}
    return definition, {"x": 1}, 1 + BRANCHES * BRANCH_DEPTH


CASES = {"pass chain": pass_chain, "map 1000 items": map_items, "parallel fan-out": parallel_fanout}


def time_scones(definition: dict[str, Any], data: Any, repeat: int, store: Any) -> float:
    from scones.workflow.asl import Executor, FakeClock

    executor = Executor(definition, clock=FakeClock(), store=store)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        execution = executor.run(data)
        elapsed = time.perf_counter() - started
        assert execution.status.value == "SUCCEEDED", execution.result()
        best = min(best, elapsed)
    return best


def time_moto(definition: dict[str, Any], data: Any, repeat: int) -> float:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    import boto3
    from moto import mock_aws

    best = float("inf")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name=f"bench-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
        for _ in range(repeat):
            started = time.perf_counter()
            run = sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(data))
            while True:
                status = sfn.describe_execution(executionArn=run["executionArn"])["status"]
                if status != "RUNNING":
                    break
                time.sleep(0.005)
            elapsed = time.perf_counter() - started
            assert status == "SUCCEEDED", status
            best = min(best, elapsed)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-moto", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from scones.store import LocalStore

    rows = []
    with tempfile.TemporaryDirectory(prefix="asl-bench-") as tmp:
        store = LocalStore(Path(tmp) / "executions")
        for label, make in CASES.items():
            definition, data, transitions = make()
            engine = time_scones(definition, data, args.repeat, None)
            persisted = time_scones(definition, data, args.repeat, store)
            moto = None if args.skip_moto else time_moto(definition, data, max(1, min(args.repeat, 2)))
            rows.append((label, transitions, engine, persisted, moto))
    print(f"{'definition':18} {'transitions':>11} {'scones tr/s':>12} {'us/tr':>7} {'+history us/tr':>15} "
          f"{'moto tr/s':>10} {'ratio':>7}")
    worst_us, worst_ratio = 0.0, float("inf")
    for label, n, engine, persisted, moto in rows:
        us = persisted / n * 1e6
        worst_us = max(worst_us, us)
        ratio = (moto / persisted) if moto else float("nan")
        if moto:
            worst_ratio = min(worst_ratio, ratio)
        moto_rate = f"{n / moto:10.0f}" if moto else f"{'-':>10}"
        print(f"{label:18} {n:>11} {n / persisted:>12.0f} {engine / n * 1e6:>7.1f} {us:>15.1f} {moto_rate} "
              f"{ratio:>6.1f}x")
    print(f"\nworst: {worst_us:.1f} us/transition with history persisted (target <= 50); "
          f"throughput vs moto >= {worst_ratio:.1f}x (target >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
