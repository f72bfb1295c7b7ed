"""The one owner of executions: start, run, describe, list, stop, and keep their histories.

Every front-end (``scones workflow run``, ``run-batch``, ``check``, ``load``, the
demo, the Step Functions API of ``scones up``) asks this service; none runs the
interpreter or writes a history itself. An execution's life:

1. its state machine was registered once (``register``: the definition parsed into
   a ``RunPlan``);
2. ``start`` (asynchronous, on a thread of its own) or ``run`` (on the caller's
   thread) claims the name, records ``ExecutionStarted`` and publishes the live
   record, so it can be described, listed and stopped while it runs;
3. it ends SUCCEEDED, FAILED, TIMED_OUT, or ABORTED (``stop``: at once, even while
   a function runs, as StopExecution does);
4. its record and history go to ``ExecutionRecords`` (the one sink), and the
   listeners (failure notifications) hear of it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from scones.errors import NotFoundError, WorkflowError
from scones.executions.plan import RunPlan
from scones.executions.records import ExecutionRecords, ExecutionSummary, Page, decode_token, encode_token
from scones.local_account import LOCAL_ACCOUNT, LOCAL_REGION
from scones.workflow.asl.clock import Clock, SystemClock
from scones.workflow.asl.errors import InputError
from scones.workflow.asl.executor import Execution, ExecutionRun, ExecutionStatus, Executor, check_execution_name

if TYPE_CHECKING:
    from scones.lambda_runtime.contract import LambdaInvoker

LOG = logging.getLogger(__name__)


#: Finished executions remembered in memory (beyond them, ``records`` answers).
RECENT_EXECUTIONS: Final = 1024

Listener = Callable[[Execution], None]


class ExecutionAlreadyExists(InputError):
    """StartExecution with the name of a kept or running execution."""


class ExecutionDoesNotExist(NotFoundError):
    """No execution with that name or ARN, running or kept."""


class StateMachineDoesNotExist(NotFoundError):
    """No registered state machine with that name or ARN."""


@dataclass(frozen=True)
class StateMachine:
    """A registered state machine: its name, ARN and parsed definition."""

    name: str
    arn: str
    plan: RunPlan
    executor: Executor


class ExecutionService:
    """Owns every execution of the state machines registered with it.

    ``invoker`` is the Lambda runtime Task states call; ``records`` keeps finished
    executions (``None``: kept only while running, e.g. ``run-batch --no-history``);
    ``listeners`` hear of every finished execution, on the thread that ran it.
    """

    def __init__(self, *, invoker: LambdaInvoker | None = None, records: ExecutionRecords | None = None,
                 clock: Clock | None = None, listeners: Sequence[Listener] = (), region: str = LOCAL_REGION,
                 account: str = LOCAL_ACCOUNT, owns_records: bool = True) -> None:
        self.invoker = invoker
        self.records = records
        self._owns_records = owns_records
        self.clock: Clock = clock or SystemClock()
        self.listeners = list(listeners)
        self.region = region
        self.account = account
        self._machines: dict[str, StateMachine] = {}
        self._live: dict[str, ExecutionRun] = {}  # by execution name: started, not yet handed to the records
        # The last finished ones, so a record is found right after its end even when nothing is kept.
        self._recent: OrderedDict[str, Execution] = OrderedDict()
        self._lock = threading.Lock()
        self._threads = itertools.count(1)
        self._closed = False

    # -- state machines ------------------------------------------------------------
    def state_machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def register(self, name: str, definition: RunPlan | Mapping[str, Any] | str) -> StateMachine:
        """Register (or replace) a state machine; the definition is parsed and validated here, once."""
        check_execution_name(name)  # state machine names follow the same rules
        plan = definition if isinstance(definition, RunPlan) else RunPlan.from_definition(definition)
        executor = Executor(plan.machine, invoker=self.invoker, clock=self.clock, state_machine_name=name)
        machine = StateMachine(name, self.state_machine_arn(name), plan, executor)
        with self._lock:
            self._machines[name] = machine
        return machine

    def state_machine(self, name_or_arn: str) -> StateMachine:
        name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        with self._lock:
            machine = self._machines.get(name)
        if machine is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: {name_or_arn}",
                                           hint=f"known: {', '.join(sorted(self._machines)) or 'none'}")
        return machine

    def state_machines(self) -> list[StateMachine]:
        with self._lock:
            return sorted(self._machines.values(), key=lambda m: m.name)

    # -- starting ------------------------------------------------------------------
    def start(self, state_machine: str, input: Any = None, *, name: str | None = None) -> ExecutionRun:
        """StartExecution: claim the name, record the start, and run on a thread of its own."""
        run = self._begin(state_machine, input, name)
        thread = threading.Thread(target=self._finish, args=(run,), daemon=True,
                                  name=f"scones-execution-{next(self._threads)}")
        thread.start()
        return run

    def run(self, state_machine: str, input: Any = None, *, name: str | None = None) -> Execution:
        """Run one execution to its end on this thread (another thread may ``stop`` it meanwhile)."""
        return self._finish(self._begin(state_machine, input, name))

    def _begin(self, state_machine: str, input: Any, name: str | None) -> ExecutionRun:
        if self._closed:
            raise WorkflowError("The execution service has been closed")
        machine = self.state_machine(state_machine)
        claimed = False
        if name is not None:
            check_execution_name(name)
            with self._lock:
                taken = name in self._live
            if taken or (self.records is not None and not self.records.reserve(name)):
                where = self.records.store.uri if self.records is not None else "this process"
                raise ExecutionAlreadyExists(
                    f"Execution Already Exists: an execution named {name!r} is already in {where} "
                    "(or is running now)",
                    hint="execution names are unique, as on AWS: pick another --name or omit it")
            claimed = True
        try:
            run = machine.executor.start(input, name=name, region=self.region, account=self.account)
        except BaseException:
            if claimed and self.records is not None:
                self.records.release(name or "")
            raise
        with self._lock:
            self._live[run.record.name] = run
        return run

    def _finish(self, run: ExecutionRun) -> Execution:
        """Run to the end (unless stopped first), then hand the record to the sink and the listeners."""
        try:
            record = run.run()
        finally:
            # Ctrl-C on this thread (KeyboardInterrupt) or SystemExit got through the run: it was stopped.
            run.stop(None, "The execution was interrupted")  # nothing happens when it ended normally
            self._keep(run)
        return record

    def _keep(self, run: ExecutionRun) -> None:
        """Hand a finished run to the sink and the listeners, once (a stopped run may end twice)."""
        record = run.record
        with self._lock:
            if self._live.get(record.name) is not run:
                return
            del self._live[record.name]
            self._recent[record.name] = record
            if len(self._recent) > RECENT_EXECUTIONS:
                self._recent.popitem(last=False)
        if self.records is not None:
            self.records.submit(record)
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # a listener's failure never changes the execution's outcome
                LOG.exception("a listener failed on execution %s", record.name)

    # -- looking at executions ----------------------------------------------------
    def describe(self, name_or_arn: str) -> Execution:
        """DescribeExecution: the live record of a running execution, or the kept one."""
        name = _execution_name(name_or_arn)
        with self._lock:
            run = self._live.get(name)
            found = run.record if run is not None else self._recent.get(name)
        if found is None and self.records is not None:
            found = self.records.find(name)
        if found is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: {name_or_arn}",
                                        hint="list executions with 'scones workflow history' or check the name")
        return found

    def running(self) -> list[Execution]:
        with self._lock:
            return [run.record for run in self._live.values()]

    def list(self, *, state_machine: str | None = None, status: ExecutionStatus | None = None,
             limit: int = 100, next_token: str | None = None) -> Page:
        """ListExecutions: newest first, running ones included, ``limit`` at a time."""
        machine_arn = self.state_machine_arn(_execution_name(state_machine)) if state_machine else None
        with self._lock:
            in_memory = [*self._recent.values(), *(run.record for run in self._live.values())]
        live = [ExecutionSummary.of(r) for r in in_memory
                if (machine_arn is None or r.state_machine_arn == machine_arn)
                and (status is None or r.status is status)]
        if next_token is not None:
            start, last = decode_token(next_token)
            live = [r for r in live if (-r.start_time, r.name) > (-start, last)]
        kept = (self.records.summaries(state_machine_arn=machine_arn, status=status, limit=limit,
                                       next_token=next_token)
                if self.records is not None else Page([], None))
        merged = {r.name: r for r in kept.items}
        merged.update({r.name: r for r in live})  # the copy in memory is the newest
        ordered = sorted(merged.values(), key=lambda r: (-r.start_time, r.name))
        items = ordered[:limit]
        more = len(ordered) > limit or kept.next_token is not None
        return Page(items, encode_token(items[-1].start_time, items[-1].name) if more and items else None)

    def stop(self, name_or_arn: str, *, error: str | None = None, cause: str | None = None) -> Execution:
        """StopExecution: a running execution ends ABORTED now; a finished one is left as it is."""
        name = _execution_name(name_or_arn)
        with self._lock:
            run = self._live.get(name)
        if run is None:
            return self.describe(name_or_arn)
        if run.stop(error, cause):
            # Final now, and kept now: its thread may stay inside a function for a while.
            self._keep(run)
        return run.record

    def wait(self, name_or_arn: str, timeout: float | None = None) -> Execution:
        """The execution once it has ended (or as it is after ``timeout`` seconds)."""
        name = _execution_name(name_or_arn)
        with self._lock:
            run = self._live.get(name)
        if run is not None:
            run.done.wait(timeout)
            return run.record
        return self.describe(name_or_arn)

    # -- life cycle ----------------------------------------------------------------
    def flush(self) -> None:
        """Wait until every finished execution is kept."""
        if self.records is not None:
            self.records.flush()

    def close(self, *, stop_running: bool = True, grace_seconds: float = 0.0) -> None:
        """Stop taking executions; running ones end ABORTED (after ``grace_seconds`` to finish on their
        own), and every record is written before this returns."""
        self._closed = True
        deadline = time.monotonic() + grace_seconds
        for record in self.running():
            with self._lock:
                run = self._live.get(record.name)
            if run is None:
                continue
            if grace_seconds > 0:
                run.done.wait(max(0.0, deadline - time.monotonic()))
            if stop_running and not run.done.is_set():
                self.stop(record.name, cause="The execution was stopped because its service shut down")
        if self.records is not None:
            if self._owns_records:
                self.records.close()
            else:
                self.records.flush()

    def with_invoker(self, invoker: LambdaInvoker | None) -> ExecutionService:
        """The same state machines, records and listeners, calling functions through ``invoker`` (a recording
        wrapper, say); closing it leaves the records open for this service."""
        other = ExecutionService(invoker=invoker, records=self.records, clock=self.clock, listeners=self.listeners,
                                 region=self.region, account=self.account, owns_records=False)
        for machine in self.state_machines():
            other.register(machine.name, machine.plan)
        return other

    def __enter__(self) -> ExecutionService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _execution_name(name_or_arn: str) -> str:
    """The last part of an execution or state machine ARN, or the name itself."""
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
