"""Interpreter overhead: transitions per second of scones' ASL interpreter vs moto's, side by side.

Three definitions: a long Pass chain, an inline Map over 1,000 items and a
Parallel fan-out. Each runs a few times in both interpreters in this process;
the best run counts. moto (an embedded copy of LocalStack's interpreter) is
driven through boto3 in ``mock_aws`` with its Step Functions execution enabled.

Targets (issue 5): >= 10x moto's throughput, <= 50 us per transition.
A "transition" is one state entered (Map iterations and branches included).

A fourth case, Distributed Map: 10,000 objects under a prefix in a temporary store,
listed by an ``ItemReader`` (``s3:listObjectsV2``), one Express child execution per
object running a Pass state, results exported by a ``ResultWriter``. It runs in a
subprocess of its own, so its peak RSS is measured alone. Targets: >= 2,000 items/s
on 2 cores, peak RSS <= 300 MiB.

    python benchmarks/asl_overhead.py [--repeat 3] [--skip-moto] [--distributed-only] [--items 10000]
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


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def _best(samples: list[Timing]) -> Timing:
    return min(s[0] for s in samples), min(s[1] for s in samples)


def time_scones(definition: dict[str, Any], data: Any, repeat: int, store: Any) -> Timing:
    from scones.workflow.asl import Executor, FakeClock

    executor = Executor(definition, clock=FakeClock(), store=store)
    samples = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        execution = executor.run(data)
        samples.append((time.perf_counter() - wall, time.process_time() - cpu))
        assert execution.status.value == "SUCCEEDED", execution.result()
    return _best(samples)


def time_moto(definition: dict[str, Any], data: Any, repeat: int) -> Timing:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    import boto3
    from moto import mock_aws

    samples = []
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name=f"bench-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            run = sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(data))
            while True:
                status = sfn.describe_execution(executionArn=run["executionArn"])["status"]
                if status != "RUNNING":
                    break
                time.sleep(0.005)
            samples.append((time.perf_counter() - wall, time.process_time() - cpu))
            assert status == "SUCCEEDED", status
    return _best(samples)


DISTRIBUTED_ITEMS = 10_000
DISTRIBUTED_TARGET_RATE = 2_000
DISTRIBUTED_TARGET_MIB = 300


def distributed_map() -> dict[str, Any]:
    return {"StartAt": "Objects", "States": {"Objects": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                       "Parameters": {"Bucket": "bench", "Prefix": "objects/"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "Touch", "States": {"Touch": {"Type": "Pass", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": "bench", "Prefix": "results"}}}}}


def distributed_worker(root: Path) -> None:
    """In the subprocess: one execution over the objects under ``root/bench/objects/``; prints JSON."""
    import resource

    from scones.workflow.asl import Executor
    from scones.workflow.asl.distributed.objects import FolderObjects

    executor = Executor(distributed_map(), objects=FolderObjects(root))
    wall, cpu = time.perf_counter(), time.process_time()
    execution = executor.run({})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # The peak of the run itself: the check below loads the whole result file, which the run never does.
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    assert execution.status.value == "SUCCEEDED", execution.result()
    manifest_key = execution.output["ResultWriterDetails"]["Key"]
    manifest = json.loads((root / "bench" / manifest_key).read_text())
    written = manifest["ResultFiles"]["SUCCEEDED"][0]
    items = (root / "bench" / written["Key"]).read_text(encoding="utf-8").count('"ExecutionArn":')
    print(json.dumps({"items": items, "wall": wall, "cpu": cpu, "peak_rss_mib": peak_kib / 1024}))


def time_distributed(items: int) -> dict[str, Any]:
    import subprocess

    with tempfile.TemporaryDirectory(prefix="asl-dmap-") as tmp:
        folder = Path(tmp) / "bench" / "objects"
        folder.mkdir(parents=True)
        for i in range(items):
            (folder / f"{i:06d}.json").write_text(json.dumps({"id": i, "name": f"object {i}"}))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
        done = subprocess.run([sys.executable, __file__, "--distributed-worker", tmp], env=env, check=True,
                              capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report_distributed(items: int) -> bool:
    result = time_distributed(items)
    rate = result["items"] / result["wall"]
    ok = rate >= DISTRIBUTED_TARGET_RATE and result["peak_rss_mib"] <= DISTRIBUTED_TARGET_MIB
    print(f"\ndistributed map, {result['items']:,} objects listed from a store, Express children (Pass), "
          f"ResultWriter: {rate:,.0f} items/s wall ({result['items'] / result['cpu']:,.0f} items/s CPU), "
          f"{result['wall']:.2f} s; peak RSS {result['peak_rss_mib']:.0f} MiB "
          f"(targets >= {DISTRIBUTED_TARGET_RATE:,} items/s, <= {DISTRIBUTED_TARGET_MIB} MiB: "
          f"{'met' if ok else 'NOT met'})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-moto", action="store_true")
    parser.add_argument("--distributed-only", action="store_true", help="run the Distributed Map case alone")
    parser.add_argument("--items", type=int, default=DISTRIBUTED_ITEMS, help="objects for the Distributed Map case")
    parser.add_argument("--distributed-worker", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    if args.distributed_worker:
        distributed_worker(Path(args.distributed_worker))
        return 0
    if args.distributed_only:
        return 0 if report_distributed(args.items) else 1
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
    print("wall clock (best of runs); scones = run + history rendered and persisted to a LocalStore")
    print(f"{'definition':18} {'transitions':>11} {'scones tr/s':>12} {'us/tr':>7} {'engine-only us/tr':>18} "
          f"{'moto tr/s':>10} {'ratio':>7}")
    worst = {"wall": 0.0, "cpu": 0.0}
    worst_ratio = {"wall": float("inf"), "cpu": float("inf")}
    for label, n, engine, persisted, moto in rows:
        ratio = moto[0] / persisted[0] if moto else float("nan")
        worst["wall"] = max(worst["wall"], persisted[0] / n * 1e6)
        worst["cpu"] = max(worst["cpu"], persisted[1] / n * 1e6)
        if moto:
            worst_ratio["wall"] = min(worst_ratio["wall"], ratio)
            worst_ratio["cpu"] = min(worst_ratio["cpu"], moto[1] / persisted[1])
        moto_rate = f"{n / moto[0]:10.0f}" if moto else f"{'-':>10}"
        print(f"{label:18} {n:>11} {n / persisted[0]:>12.0f} {persisted[0] / n * 1e6:>7.1f} "
              f"{engine[0] / n * 1e6:>18.1f} {moto_rate} {ratio:>6.1f}x")
    print("\nCPU time (robust on a shared machine): " + ", ".join(
        f"{label} {persisted[1] / n * 1e6:.1f} us/tr" + (f" ({moto[1] / persisted[1]:.0f}x moto)" if moto else "")
        for label, n, _, persisted, moto in rows))
    print(f"\nworst: {worst['wall']:.1f} us/transition wall, {worst['cpu']:.1f} us/transition CPU, history "
          f"persisted (target <= 50); throughput vs moto >= {worst_ratio['wall']:.1f}x wall, "
          f"{worst_ratio['cpu']:.1f}x CPU (target >= 10x)")
    report_distributed(args.items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
