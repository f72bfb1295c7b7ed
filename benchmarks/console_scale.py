"""The console on a big history: 100,000 kept executions, and one execution with 1,000 events.

Targets (server time: the console's handler and the JSON of its answer, no network):

- the executions list's first page with 100,000 records: at most 200 ms;
- an execution's detail with 1,000 events (graph, outcomes, events): at most 300 ms.

The records are written through ``ExecutionRecords`` (one ``<name>.json`` each) by a process that
does not list, as 100,000 scripted ``scones workflow run`` calls would: their rows wait in the
index's journal, and the console's first listing takes them in (printed as "first"). The medians are
what every later listing costs, and what ``scones up`` (which writes rows straight into the index)
costs from the start.

    python benchmarks/console_scale.py [--executions 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scones.executions.records import ExecutionRecords
from scones.executions.service import ExecutionService
from scones.gateway.console import ConsoleContext
from scones.gateway.console.executions_api import execution_detail, list_executions
from scones.gateway.console.service import _json_response
from scones.lambda_runtime.activity import Activity
from scones.store import LocalStore
from scones.workflow.asl.executor import Execution, ExecutionStatus, run_execution

LIST_TARGET_MS = 200.0
DETAIL_TARGET_MS = 300.0
MACHINE = "bench"
ACCOUNT_ARN = "arn:aws:states:us-east-1:123456789012"
#: A Map over Pass states: 4 events per item and 6 around them, so 249 items make 1,002 events.
BIG = {"StartAt": "Each", "States": {"Each": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
    "ItemProcessor": {"StartAt": "Look", "States": {"Look": {"Type": "Pass", "End": True}}}, "End": True}}}


class NoFunctions:
    functions: dict[str, Any] = {}
    activity = Activity()


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(first run, median of the next ``runs``) in milliseconds, answer serialised to JSON included."""
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        _json_response(call())
        samples.append((time.perf_counter() - started) * 1000)
    return samples[0], statistics.median(samples[1:])


def fill(records: ExecutionRecords, count: int) -> None:
    machine_arn = f"{ACCOUNT_ARN}:stateMachine:{MACHINE}"
    start = time.time() - count
    statuses = [ExecutionStatus.SUCCEEDED] * 8 + [ExecutionStatus.FAILED, ExecutionStatus.ABORTED]
    for i in range(count):
        name = f"exec-{i:06d}"
        at = start + i
        status = statuses[i % len(statuses)]
        events = [{"timestamp": "2025-01-01T00:00:00Z", "type": "ExecutionStarted", "id": 1, "previousEventId": 0}]
        records.submit(Execution(name, f"{ACCOUNT_ARN}:execution:{MACHINE}:{name}", machine_arn, status,
                                 {"s3_bucket": "scones", "s3_key": f"test/{i}.png"}, at, at + 0.4,
                                 output={} if status is ExecutionStatus.SUCCEEDED else None, _events=events))
    records.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        index = folder / "index.sqlite"
        made = ExecutionRecords(LocalStore(folder / "executions"), index_path=index)
        made.open_index()  # the index exists (any earlier run made it); the writer below only appends rows
        made.close()
        short_runs = ExecutionRecords(LocalStore(folder / "executions"), index_path=index)
        started = time.perf_counter()
        fill(short_runs, args.executions)
        short_runs.close()
        print(f"wrote {args.executions:,} executions through ExecutionRecords in {time.perf_counter() - started:.1f} s")
        records = ExecutionRecords(LocalStore(folder / "executions"), index_path=index)
        service = ExecutionService(records=records)
        service.register(MACHINE, BIG)
        ctx = ConsoleContext(service, NoFunctions(), {}, folder / "store", "scones")

        big = run_execution(BIG, {"items": [{"key": f"test/{i}.png", "note": "x" * 200} for i in range(249)]},
                            name="big-one", state_machine_name=MACHINE)
        records.write(big)
        events = len(service.describe("big-one").events())
        assert events >= 1000, events

        first, median = timed(lambda: list_executions(ctx), args.runs)
        print(f"executions list, first page of {args.executions:,}: first {first:.1f} ms (takes in the rows the "
              f"writer left in the journal), median {median:.1f} ms "
              f"(target {LIST_TARGET_MS:.0f} ms: {'met' if median <= LIST_TARGET_MS else 'NOT met'})")
        _, filtered = timed(lambda: list_executions(ctx, status="FAILED"), args.runs)
        print(f"  filtered by status FAILED: median {filtered:.1f} ms")
        token = list_executions(ctx)["nextToken"]
        _, deep = timed(lambda: list_executions(ctx, token=token), args.runs)
        print(f"  second page: median {deep:.1f} ms")
        _, search = timed(lambda: list_executions(ctx, name="exec-09999"), 3)
        answer = list_executions(ctx, name="exec-09999")
        print(f"  name filter 'exec-09999' (searched in the listing index): median {search:.1f} ms, "
              f"{len(answer['items'])} found")

        first, median = timed(lambda: execution_detail(ctx, "big-one"), args.runs)
        print(f"execution detail, {events:,} events: first {first:.1f} ms, median {median:.1f} ms "
              f"(target {DETAIL_TARGET_MS:.0f} ms: {'met' if median <= DETAIL_TARGET_MS else 'NOT met'})")
        records.close()


if __name__ == "__main__":
    main()
