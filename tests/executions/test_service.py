"""``ExecutionService``: one owner for every execution, run synchronously or started and watched."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from scones.executions import ExecutionAlreadyExists, ExecutionDoesNotExist, ExecutionRecords, ExecutionService
from scones.store import LocalStore
from scones.workflow.asl import CallableLambdaInvoker, ExecutionStatus
from scones.workflow.asl.executor import Execution

WAITS = {"StartAt": "Work", "States": {"Work": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
    "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": True}}}


class Gate:
    """A function that waits until its execution's gate is opened (or the test ends)."""

    def __init__(self) -> None:
        self.entered = {i: threading.Event() for i in range(3)}
        self.open = {i: threading.Event() for i in range(3)}

    def __call__(self, event: Any, context: Any) -> Any:
        self.entered[event["i"]].set()
        self.open[event["i"]].wait(30)
        return {"done": event["i"]}

    def release_all(self) -> None:
        for gate in self.open.values():
            gate.set()


@pytest.fixture
def records(tmp_path: Path) -> ExecutionRecords:
    return ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")


@pytest.mark.timeout(60)
def test_three_executions_at_once_are_described_listed_and_stopped_while_they_run(
        records: ExecutionRecords) -> None:
    gate = Gate()
    service = ExecutionService(invoker=CallableLambdaInvoker({"work": gate}), records=records)
    service.register("gated", WAITS)
    try:
        runs = [service.start("gated", {"i": i}, name=f"run-{i}") for i in range(3)]
        for i in range(3):
            assert gate.entered[i].wait(10)
        # described while running, with the history so far
        for i, run in enumerate(runs):
            described = service.describe(run.record.execution_arn)
            assert described.status is ExecutionStatus.RUNNING and described.describe()["name"] == f"run-{i}"
            assert "stopDate" not in described.describe()
            assert [e["type"] for e in described.events()][-1] == "TaskStarted"
        page = service.list(state_machine="gated", status=ExecutionStatus.RUNNING)
        assert sorted(s.name for s in page.items) == ["run-0", "run-1", "run-2"]
        # stopped while its function still runs: ABORTED at once, with StopExecution's error and cause
        stopped = service.stop("run-0", error="Operator", cause="wrong image")
        assert stopped.status is ExecutionStatus.ABORTED
        assert stopped.events()[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "wrong image"}
        assert service.describe("run-0").status is ExecutionStatus.ABORTED
        # another one finishes on its own
        gate.open[1].set()
        assert service.wait("run-1", timeout=10).status is ExecutionStatus.SUCCEEDED
        assert service.describe("run-1").output == {"done": 1}
        statuses = {s.name: s.status for s in service.list(state_machine="gated").items}
        assert statuses == {"run-0": ExecutionStatus.ABORTED, "run-1": ExecutionStatus.SUCCEEDED,
                            "run-2": ExecutionStatus.RUNNING}
        # the function of the stopped execution returns later: its result is not recorded
        gate.open[0].set()
        service.flush()
        assert "TaskSucceeded" not in [e["type"] for e in records.load("run-0").events()]
    finally:
        service.close()  # the last one is still running: it ends ABORTED and is kept
        gate.release_all()
    kept = {name: records.load(name).status for name in ("run-0", "run-1", "run-2")}
    assert kept == {"run-0": ExecutionStatus.ABORTED, "run-1": ExecutionStatus.SUCCEEDED,
                    "run-2": ExecutionStatus.ABORTED}


def test_names_are_unique_among_running_and_kept_executions(records: ExecutionRecords) -> None:
    service = ExecutionService(records=records)
    service.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    service.run("p", {}, name="once")
    with pytest.raises(ExecutionAlreadyExists, match="Execution Already Exists"):
        service.run("p", {}, name="once")
    service.close()
    again = ExecutionService(records=ExecutionRecords(records.store))  # another process, same store
    again.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(ExecutionAlreadyExists):
        again.start("p", {}, name="once")


def test_unknown_names_are_aws_errors(records: ExecutionRecords) -> None:
    from scones.executions import StateMachineDoesNotExist

    service = ExecutionService(records=records)
    with pytest.raises(StateMachineDoesNotExist, match="State Machine Does Not Exist"):
        service.start("nope", {})
    with pytest.raises(ExecutionDoesNotExist, match="Execution Does Not Exist"):
        service.describe("arn:aws:states:us-east-1:123456789012:execution:nope:nothing")


def test_listeners_hear_every_end_and_cannot_break_it(records: ExecutionRecords) -> None:
    heard: list[str] = []

    def broken(execution: Any) -> None:
        raise RuntimeError("listener bug")

    service = ExecutionService(records=records, listeners=[broken, lambda e: heard.append(e.status.value)])
    service.register("f", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    assert service.run("f", {}).status is ExecutionStatus.FAILED
    assert heard == ["FAILED"]
    service.close()


def test_pages_are_newest_first_and_tokens_continue_them(records: ExecutionRecords) -> None:
    from scones.workflow.asl import FakeClock

    clock = FakeClock()
    service = ExecutionService(records=records, clock=clock)
    service.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    for i in range(7):
        service.run("p", {}, name=f"e{i}")
        clock.sleep(1)
    service.flush()
    names: list[str] = []
    token = None
    while True:
        page = service.list(state_machine="p", limit=3, next_token=token)
        names += [s.name for s in page.items]
        token = page.next_token
        if token is None:
            break
    assert names == [f"e{i}" for i in reversed(range(7))]
    service.close()


def test_a_short_run_leaves_its_index_rows_for_the_next_lister(tmp_path: Path) -> None:
    """workflow run does not open SQLite once the index exists; scones up (or the console) takes its rows
    in from the journal before it lists."""
    import sqlite3

    store = LocalStore(tmp_path / "executions")
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    for name in ("first-in-this-home", "from-the-cli"):
        short = ExecutionService(records=ExecutionRecords(store, index_path=tmp_path / "index.sqlite"))
        short.register("p", definition)
        short.run("p", {}, name=name)
        short.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "index.sqlite")) as db:
        assert [r[0] for r in db.execute("SELECT name FROM executions")] == ["first-in-this-home"]
    assert "from-the-cli" in (tmp_path / "index.sqlite.rows").read_text()
    lister = ExecutionRecords(store, index_path=tmp_path / "index.sqlite")
    lister.open_index()
    assert [s.name for s in lister.summaries().items] == ["from-the-cli", "first-in-this-home"]
    assert not list(tmp_path.glob("index.sqlite.rows*"))
    lister.close()


def test_rows_appended_while_a_lister_takes_the_journal_are_all_kept(tmp_path: Path) -> None:
    """Writers in other threads (processes, in real use) append while a lister takes the journal in."""
    store = LocalStore(tmp_path / "executions")
    lister = ExecutionRecords(store, index_path=tmp_path / "index.sqlite")
    lister.open_index()
    lister.summaries()  # the database exists: writers below append to the journal
    index = tmp_path / "index.sqlite"

    def write(worker: int) -> None:
        writer = ExecutionRecords(store, index_path=index)
        for i in range(100):
            at = float(worker * 1000 + i)
            writer.write(Execution(f"w{worker}-{i}", f"arn:aws:states:us-east-1:123456789012:execution:p:w{worker}-{i}",
                                   "arn:aws:states:us-east-1:123456789012:stateMachine:p", ExecutionStatus.SUCCEEDED,
                                   {}, at, at + 1, output={}))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        lister.summaries(limit=1)
    for thread in threads:
        thread.join()
    names: set[str] = set()
    token = None
    while True:
        page = lister.summaries(limit=1000, next_token=token)
        names |= {s.name for s in page.items}
        token = page.next_token
        if token is None:
            break
    assert names == {f"w{w}-{i}" for w in range(4) for i in range(100)}
    lister.close()


def test_a_damaged_journal_line_is_skipped_and_earlier_row_files_are_taken_in(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "executions")
    records = ExecutionRecords(store, index_path=tmp_path / "index.sqlite")
    records.open_index()
    records.close()
    good = ["kept", "arn:aws:states:us-east-1:123456789012:execution:p:kept",
            "arn:aws:states:us-east-1:123456789012:stateMachine:p", "SUCCEEDED", 2.0, 3.0]
    (tmp_path / "index.sqlite.rows").write_text('["half a li\n' + json.dumps(good) + "\n")
    (tmp_path / "index.sqlite.pending").mkdir()
    older = [*good[:2], good[2], "FAILED", 1.0, 1.5]
    older[0], older[1] = "older", "arn:aws:states:us-east-1:123456789012:execution:p:older"
    (tmp_path / "index.sqlite.pending" / "older.row").write_text(json.dumps(older))
    lister = ExecutionRecords(store, index_path=tmp_path / "index.sqlite")
    with caplog.at_level("WARNING"):
        assert [s.name for s in lister.summaries().items] == ["kept", "older"]
    assert "skipping a line of the index journal" in caplog.text
    lister.close()


def test_names_can_be_searched_in_the_listing(records: ExecutionRecords) -> None:
    service = ExecutionService(records=records)
    service.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    for name in ("image-Bike-1", "image-motorcycle-2", "other_bike_3", "a_b-c"):
        service.run("p", {}, name=name)
    service.flush()
    assert sorted(s.name for s in service.list(name_contains="bike").items) == ["image-Bike-1", "other_bike_3"]
    assert [s.name for s in service.list(name_contains="_b-").items] == ["a_b-c"]  # "_" is no wildcard here
    service.close()


def test_kept_executions_are_paged_and_searched_without_an_index(tmp_path: Path) -> None:
    """A store without a listing index is read file by file, and pages the same way as the index does."""
    from scones.workflow.asl import FakeClock

    store = LocalStore(tmp_path / "executions")
    clock = FakeClock()
    with ExecutionService(records=ExecutionRecords(store), clock=clock) as first:
        first.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        for name in ("bike-1", "car-2", "Bike-3", "bike-4"):
            first.run("p", {}, name=name)
            clock.sleep(1)
    later = ExecutionService(records=ExecutionRecords(store))  # nothing in memory: every row comes from a file
    later.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    page = later.list(state_machine="p", limit=2, name_contains="BIKE")
    assert [s.name for s in page.items] == ["bike-4", "Bike-3"] and page.next_token is not None
    rest = later.list(state_machine="p", limit=2, name_contains="BIKE", next_token=page.next_token)
    assert [s.name for s in rest.items] == ["bike-1"] and rest.next_token is None
    later.close()


def test_a_damaged_index_is_built_again_from_the_kept_executions(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The index holds nothing the history files do not: a damaged one is replaced, not a traceback."""
    store = LocalStore(tmp_path / "executions")
    with ExecutionService(records=ExecutionRecords(store)) as service:
        service.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        service.run("p", {}, name="kept")
    (tmp_path / "index.sqlite").write_bytes(b"not a database, whatever it once was" * 100)
    lister = ExecutionRecords(store, index_path=tmp_path / "index.sqlite")
    with caplog.at_level("WARNING"):
        lister.open_index()
        assert [s.name for s in lister.summaries().items] == ["kept"]
    assert "is damaged" in caplog.text
    lister.close()


def test_an_index_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    from scones.errors import StoreError

    (tmp_path / "index.sqlite").mkdir()  # e.g. a folder in the way
    records = ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")
    with pytest.raises(StoreError, match="Cannot open the executions index"):
        records.open_index()
    records.close()


def test_close_keeps_a_run_whose_thread_has_not_handed_it_over_yet(tmp_path: Path) -> None:
    """``scones workflow run`` wakes when its execution ends and closes the service at once: the history
    must be written by then even when the execution's own thread is still on its way to hand it over."""
    import time

    heard: list[str] = []

    def slow_listener(record: Execution) -> None:
        time.sleep(0.2)
        heard.append(record.name)

    service = ExecutionService(records=ExecutionRecords(LocalStore(tmp_path / "executions")),
                               listeners=[slow_listener])
    service.register("p", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    handed_over = service._keep

    def late_keep(run: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.2)  # the execution's thread, descheduled between the end and the hand-over
        handed_over(run)

    service._keep = late_keep  # type: ignore[method-assign]
    for name in ("late-1", "late-2"):
        service.start("p", {}, name=name).done.wait(10)
    service.close()
    assert (tmp_path / "executions" / "late-1.json").exists() and (tmp_path / "executions" / "late-2.json").exists()
    assert sorted(heard) == ["late-1", "late-2"]  # the listeners were heard out before close returned
