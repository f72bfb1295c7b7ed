"""Executions: start, run to a terminal status, record history, persist once at the end."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from scones.lambda_runtime.contract import LambdaInvoker
from scones.workflow.asl.clock import Clock, SystemClock, iso_timestamp
from scones.workflow.asl.connections import Connections
from scones.workflow.asl.context import ExecutionContext, Frame
from scones.workflow.asl.errors import Failure, FailureError, HistoryLimitExceeded, InputError, StatesError
from scones.workflow.asl.history import MAX_HISTORY_EVENTS, EventType, History
from scones.workflow.asl.jsontext import parse_json, to_compact_json, within_payload_limit
from scones.workflow.asl.parse import build_state_machine
from scones.workflow.asl.program import ExecutionAborted, ExecutionTimedOut, StateMachine
from scones.workflow.asl.resources import ResourceResolver
from scones.workflow.asl.variables import VariableScope

if TYPE_CHECKING:
    from scones.store import Store
    from scones.workflow.asl.distributed.children import ChildResult
    from scones.workflow.asl.distributed.map_run import MapRun, MapRunHost
    from scones.workflow.asl.distributed.objects import ObjectStore

LOG = logging.getLogger(__name__)

#: "1-80 characters; no whitespace, brackets, wildcards, special or control characters" (quotas / API).
_BAD_NAME: Final = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
MAX_ERROR_CHARS: Final = 256
MAX_CAUSE_CHARS: Final = 32_768


class ExecutionStatus(str, Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


@dataclass
class Execution:
    """One execution's record: what DescribeExecution and GetExecutionHistory would return."""

    name: str
    execution_arn: str
    state_machine_arn: str
    status: ExecutionStatus
    input: Any
    start_time: float
    stop_time: float | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: History | None = field(default=None, repr=False)
    _events: list[dict[str, Any]] | None = field(default=None, repr=False)

    def events(self) -> list[dict[str, Any]]:
        """The history as GetExecutionHistory returns it."""
        if self._events is not None:
            return self._events
        events = self.history.to_aws() if self.history is not None else []
        if self.status is not ExecutionStatus.RUNNING:  # a running execution's history still grows
            self._events = events
        return events

    def result(self) -> dict[str, Any]:
        """The CLI's protocol object."""
        return {"status": self.status.value, "output": self.output if self.status is ExecutionStatus.SUCCEEDED
                else None, "error": self.error, "cause": self.cause, "executionArn": self.execution_arn}

    def describe(self) -> dict[str, Any]:
        """DescribeExecution's shape (input/output as JSON text)."""
        out: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status.value,
            "startDate": iso_timestamp(self.start_time),
            "input": to_compact_json(self.input),
            "inputDetails": {"included": True},
        }
        if self.stop_time is not None:
            out["stopDate"] = iso_timestamp(self.stop_time)
        if self.status is ExecutionStatus.SUCCEEDED:
            out["output"] = to_compact_json(self.output)
            out["outputDetails"] = {"included": True}
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        return out

    def to_json(self) -> dict[str, Any]:
        return {"execution": self.describe(), "events": self.events()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Execution:
        d = doc["execution"]
        status = ExecutionStatus(d["status"])
        return cls(
            name=d["name"], execution_arn=d["executionArn"], state_machine_arn=d["stateMachineArn"], status=status,
            input=parse_json(d["input"], max_nesting=None), start_time=_parse_iso(d["startDate"]),
            stop_time=_parse_iso(d["stopDate"]) if "stopDate" in d else None,
            output=parse_json(d["output"], max_nesting=None) if "output" in d else None, error=d.get("error"),
            cause=d.get("cause"),
            _events=doc.get("events", []),
        )


def _parse_iso(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def check_execution_name(name: str) -> None:
    if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise InputError(f"Invalid execution name {name!r}",
                         hint="use 1-80 characters without whitespace, brackets, wildcards or punctuation "
                              "such as : / ; , $ & #")


def _truncate(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


class StopRequest(threading.Event):
    """A ``stop`` event for ``Executor.run`` that also carries StopExecution's optional error and cause."""

    def __init__(self) -> None:
        super().__init__()
        self.error: str | None = None
        self.cause: str | None = None

    def request(self, error: str | None = None, cause: str | None = None) -> None:
        """StopExecution(error, cause): the execution ends as ABORTED at once, even inside a Wait."""
        self.error, self.cause = error, cause
        self.set()


class Executor:
    """Runs executions of one state machine; holds no per-execution state, so runs may overlap."""

    def __init__(self, definition: StateMachine | dict[str, Any] | str | bytes, *,
                 invoker: LambdaInvoker | None = None, clock: Clock | None = None, store: Store | None = None,
                 resolver: ResourceResolver | None = None, state_machine_name: str = "scones-local",
                 max_history_events: int | None = MAX_HISTORY_EVENTS,
                 connections: Connections | None = None, objects: ObjectStore | None = None,
                 map_runs: MapRunHost | None = None) -> None:
        # A machine built once (``RunPlan``) may back several executors (other invokers, other names).
        self.machine: StateMachine = (definition if isinstance(definition, StateMachine)
                                      else build_state_machine(definition, resolver))
        #: The Standard-workflow quota by default; ``None`` records without limit.
        self.max_history_events = max_history_events
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        #: Where ``run`` saves each finished execution; ``start`` saves nothing.
        self.store = store
        #: The buckets a Distributed Map reads items from and writes results to.
        self.objects = objects
        #: Who hears of map runs and keeps their Standard child executions.
        self.map_runs = map_runs
        self.state_machine_name = state_machine_name
        #: Task tokens (``self.connections.callbacks`` answers this executor's callbacks), child executions and
        #: where SNS messages go; an owner of many executors passes its own to ``start``.
        self.connections = connections or Connections()

    def start(self, input: Any = None, *, name: str | None = None, seed: int | None = None,
              stop: threading.Event | None = None, region: str | None = None,
              account: str | None = None, execution_arn: str | None = None,
              role_arn: str | None = None, connections: Connections | None = None) -> ExecutionRun:
        """Prepare one execution (``ExecutionStarted`` recorded, status RUNNING); ``ExecutionRun.run`` runs it.

        Keeping the two apart lets an owner publish the live record (DescribeExecution of a RUNNING
        execution, its history so far) and stop it from another thread while it runs. ``execution_arn``
        and ``role_arn`` (the state machine's role) override the local defaults.
        """
        name = str(uuid.uuid4()) if name is None else name
        check_execution_name(name)
        execution_input = {} if input is None else input
        if not within_payload_limit(execution_input):
            raise InputError("The execution input is larger than 262,144 bytes, the Step Functions quota",
                             hint="pass a reference (an S3 key) instead of the data itself")
        where = {k: v for k, v in (("region", region), ("account", account)) if v is not None}
        ctx = ExecutionContext.create(name=name, state_machine_name=self.state_machine_name, input=execution_input,
                                      clock=self.clock, invoker=self.invoker, store=self.store, seed=seed,
                                      max_history_events=self.max_history_events, execution_arn=execution_arn,
                                      role_arn=role_arn, connections=connections or self.connections, **where)
        ctx.objects = self.objects
        ctx.map_runs = self.map_runs
        ctx.run_child = run_child
        if self.machine.timeout_seconds:
            ctx.deadline = ctx.start_time + self.machine.timeout_seconds
        # A stop event handed in by the caller is only *set* (no ExecutionRun.stop), so a running Task
        # must watch it; with our own event, ``ExecutionRun.stop`` ends the execution without waiting.
        ctx.stop = stop if stop is not None else StopRequest()
        ctx.tasks_watch_stop = stop is not None
        frame = Frame(ctx, ctx.base_context_object(), VariableScope())
        frame.event(EventType.EXECUTION_STARTED, {"input": execution_input, "roleArn": ctx.role_arn})
        record = Execution(name=name, execution_arn=ctx.execution_arn, state_machine_arn=ctx.state_machine_arn,
                           status=ExecutionStatus.RUNNING, input=execution_input, start_time=ctx.start_time,
                           history=ctx.history)
        return ExecutionRun(self.machine, frame, record)

    def run(self, input: Any = None, *, name: str | None = None, seed: int | None = None,
            stop: threading.Event | None = None) -> Execution:
        """Run one execution to its end on this thread, and save it in ``store`` when there is one.

        Setting ``stop`` (StopExecution) ends it as ABORTED at the next transition, or at once during a
        Wait, a retry delay or (with the real clock and a task timeout) a running Task; a ``StopRequest``
        adds error/cause.
        """
        if name is not None and self.store is not None and self.store.exists(execution_key(name)):
            raise InputError(f"Execution Already Exists: an execution named {name!r} is already in {self.store.uri}",
                             hint="execution names are unique, as on AWS: pick another --name or omit it")
        record = self.start(input, name=name, seed=seed, stop=stop).run()
        if self.store is not None:
            save_execution(self.store, record)
        return record


class ExecutionRun:
    """One execution between its start and its end; ``stop`` may end it from any thread at any time.

    The record is live: its status is RUNNING and its history grows until the run ends. Whoever ends
    it first, the run itself or ``stop``, writes the closing event and the final status; the other
    finds the run over and changes nothing. After ``stop`` the history is sealed, so a Task still
    running when StopExecution came (on AWS too the invocation carries on) cannot add to it.
    """

    def __init__(self, machine: StateMachine, frame: Frame, record: Execution) -> None:
        self.machine = machine
        self.frame = frame
        self.record = record
        self.done = threading.Event()
        self._lock = threading.Lock()

    @property
    def context(self) -> ExecutionContext:
        return self.frame.execution

    def run(self) -> Execution:
        """Run to the end on this thread; returns the final record."""
        frame, record = self.frame, self.record
        try:
            output = self.machine.run(frame, record.input)
        except FailureError as exc:
            self._end(ExecutionStatus.FAILED, exc.failure)
        except ExecutionAborted:
            stop = self.context.stop
            self._end(ExecutionStatus.ABORTED, Failure(getattr(stop, "error", None), getattr(stop, "cause", None)))
        except HistoryLimitExceeded as exc:
            # Developer guide ("Avoid reaching the history quota"): at 24,999 events the execution waits
            # for the next one; unless it is ExecutionSucceeded, ExecutionFailed is logged as event
            # 25,000. The cause is the text users report from real executions; the error name is not
            # documented, States.Runtime (the service's own failures) is our choice (unverified).
            self._end(ExecutionStatus.FAILED, Failure(
                StatesError.RUNTIME.value,
                f"The execution reached the maximum number of history events ({exc.limit})."))
        except ExecutionTimedOut:
            self._end(ExecutionStatus.TIMED_OUT,
                      Failure(StatesError.TIMEOUT.value, "The execution ran past its TimeoutSeconds"))
        except Exception as exc:
            # The one place where an exception the interpreter did not expect becomes States.Runtime
            # (as on AWS); the traceback goes to the log, the execution record stays well-formed.
            LOG.exception("execution %s failed unexpectedly", record.name)
            self._end(ExecutionStatus.FAILED, Failure(StatesError.RUNTIME.value,
                                                      f"An internal error occurred: {type(exc).__name__}: {exc}"))
        else:
            self._end(ExecutionStatus.SUCCEEDED, None, output)
        return record

    def stop(self, error: str | None = None, cause: str | None = None) -> bool:
        """StopExecution: end the run as ABORTED now; False when it had already ended."""
        stop = self.context.stop
        if isinstance(stop, StopRequest):
            stop.request(error, cause)
        elif stop is not None:
            stop.set()
        return self._end(ExecutionStatus.ABORTED, Failure(error, cause))

    def _end(self, status: ExecutionStatus, failure: Failure | None, output: Any = None) -> bool:
        with self._lock:
            if self.done.is_set():
                return False
            record = self.record
            details: dict[str, Any] = {}
            if status is ExecutionStatus.SUCCEEDED:
                record.output = output
                details["output"] = output
            elif failure is not None:
                record.error = _truncate(failure.error, MAX_ERROR_CHARS)
                record.cause = _truncate(failure.cause, MAX_CAUSE_CHARS)
                if record.error is not None:
                    details["error"] = record.error
                if record.cause is not None:
                    details["cause"] = record.cause
            self.frame.event(_CLOSING_EVENT[status], details)
            self.context.history.seal()
            # The status last: whoever reads a final status finds the closing event recorded.
            record.stop_time = self.context.clock.now()
            record.status = status
            self.done.set()
        # Its tasks wait no more: a late SendTaskSuccess gets TaskTimedOut (also when a stop ended it).
        self.context.connections.callbacks.close_execution(record.execution_arn)
        return True


_CLOSING_EVENT: Final = {
    ExecutionStatus.SUCCEEDED: EventType.EXECUTION_SUCCEEDED,
    ExecutionStatus.FAILED: EventType.EXECUTION_FAILED,
    ExecutionStatus.TIMED_OUT: EventType.EXECUTION_TIMED_OUT,
    ExecutionStatus.ABORTED: EventType.EXECUTION_ABORTED,
}


def execution_key(name: str) -> str:
    return f"{name}.json"


def save_execution(store: Store, execution: Execution) -> None:
    """One write per execution, at the end: ``<store>/<name>.json`` (atomic)."""
    started = time.perf_counter()
    text = execution_json_text(execution)
    store.put_text(execution_key(execution.name), text)
    LOG.debug("saved execution %s in %.1f ms", execution.name, (time.perf_counter() - started) * 1000)


def execution_json_text(execution: Execution) -> str:
    """``json.dumps(execution.to_json())``, compact, with the history rendered straight to text."""
    if execution.history is None or execution._events is not None:
        return json.dumps(execution.to_json(), ensure_ascii=False, separators=(",", ":"))
    return f'{{"execution":{to_compact_json(execution.describe())},"events":{execution.history.to_json_text()}}}'


def load_execution(store: Store, name_or_arn: str) -> Execution:
    """Find a persisted execution by name or ARN."""
    from scones.errors import NotFoundError

    name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
    check_execution_name(name)
    try:
        text = store.get_text(execution_key(name))
    except NotFoundError as exc:
        raise NotFoundError(f"No execution named {name!r} in {store.uri}",
                            hint="run 'scones workflow run ... --name NAME' first, or check SCONES_HOME") from exc
    try:
        # No nesting limit here: a run may build values deeper than the input limit, and this reads
        # back what scones itself wrote.
        doc = parse_json(text, max_nesting=None)
        events = doc.get("events") if isinstance(doc, dict) else None
        if not isinstance(events, list) or not all(
                isinstance(e, dict) and isinstance(e.get("id"), int) and isinstance(e.get("type"), str)
                and isinstance(e.get("timestamp"), str) for e in events):
            raise ValueError("its events are not a list of {id, type, timestamp, ...} objects")
        return Execution.from_json(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        from scones.errors import StoreError

        raise StoreError(f"The saved execution {name!r} in {store.uri} is damaged ({type(exc).__name__}: {exc})",
                         hint=f"delete {store.uri_for(execution_key(name))} or run the execution again") from exc


def run_execution(definition: dict[str, Any] | str | bytes, input: Any = None, *,
                  invoker: LambdaInvoker | None = None, clock: Clock | None = None, store: Store | None = None,
                  name: str | None = None, resolver: ResourceResolver | None = None,
                  state_machine_name: str = "scones-local", seed: int | None = None,
                  stop: threading.Event | None = None,
                  max_history_events: int | None = MAX_HISTORY_EVENTS,
                  connections: Connections | None = None) -> Execution:
    """Validate ``definition``, run it once on ``input`` and return the finished execution."""
    executor = Executor(definition, invoker=invoker, clock=clock, store=store, resolver=resolver,
                        state_machine_name=state_machine_name, max_history_events=max_history_events,
                        connections=connections)
    return executor.run(input, name=name, seed=seed, stop=stop)


def run_child(parent: Frame, run: MapRun, processor: StateMachine, child_input: Any, items: int) -> ChildResult:
    """One child execution of a Distributed Map, run to its end on this thread like any execution.

    A Standard child's record (history included) goes to the map-run host, whose sink keeps it; an
    Express child keeps nothing beyond its result.
    """
    from scones.workflow.asl.distributed.children import ChildResult, child_frame, new_child_name

    name = new_child_name(parent.execution.intrinsics.rng)
    frame = child_frame(parent, run, name, child_input)
    ctx = frame.execution
    express = run.execution_type.value == "EXPRESS"
    record = Execution(name=name, execution_arn=ctx.execution_arn, state_machine_arn=ctx.state_machine_arn,
                       status=ExecutionStatus.RUNNING, input=child_input, start_time=ctx.start_time,
                       history=None if express else ctx.history)
    ExecutionRun(processor, frame, record).run()
    if not express and ctx.map_runs is not None:
        ctx.map_runs.child_ended(record)
    return ChildResult(name, record.execution_arn, child_input, record.status.value, record.output, record.error,
                       record.cause, record.start_time, record.stop_time or record.start_time, items)
