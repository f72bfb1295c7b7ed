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

State machines made through the API (``create_state_machine``, ``update_state_machine``,
``delete_state_machine``) are kept by a ``StateMachineRegistry`` and come back when the
service is built again on the same folder; ``register`` is the in-memory side of it.

Names: a Standard execution's name is unique across the executions store (one flat
``<name>.json`` each; AWS scopes names per state machine). Express executions are
never kept (AWS keeps no history of them either), are known by their ARN while in
memory, and may reuse a name at once, as on AWS.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from scones.errors import WorkflowError
from scones.executions.catalog import (
    StateMachine,
    StateMachineAlreadyExists,
    StateMachineCatalog,
    StateMachineDeleting,
    StateMachineDoesNotExist,
)
from scones.executions.errors import ExecutionAlreadyExists, ExecutionDoesNotExist
from scones.executions.machines import MachineInfo, MachineStatus, MachineType, Revision, StateMachineRegistry
from scones.executions.map_runs import MapRuns
from scones.executions.nested import ServiceChildren
from scones.executions.plan import RunPlan
from scones.executions.records import ExecutionRecords, ExecutionSummary, Page, page_of
from scones.executions.workers import ElasticThreads
from scones.local_account import LOCAL_ACCOUNT, LOCAL_REGION
from scones.workflow.asl.callbacks import CallbackError, CallbackErrorKind, TaskTokens, WaitingTask, token_execution
from scones.workflow.asl.clock import Clock, SystemClock
from scones.workflow.asl.connections import Connections, MessagePublisher
from scones.workflow.asl.executor import Execution, ExecutionRun, ExecutionStatus, check_execution_name
from scones.workflow.asl.jsontext import to_compact_json

if TYPE_CHECKING:
    from scones.lambda_runtime.contract import LambdaInvoker
    from scones.workflow.asl.distributed.objects import ObjectStore

LOG = logging.getLogger(__name__)

__all__ = ["ExecutionAlreadyExists", "ExecutionDoesNotExist", "ExecutionService", "StateMachine",
           "StateMachineAlreadyExists", "StateMachineDeleting", "StateMachineDoesNotExist"]

#: Finished executions remembered in memory (beyond them, ``records`` answers).
RECENT_EXECUTIONS: Final = 1024
#: How long an Express execution may run (docs/aws-facts.md, Express workflows).
EXPRESS_MAX_SECONDS: Final = 300
#: The cause of executions still running when the service closes (they end ABORTED).
SHUTDOWN_CAUSE: Final = "The execution was stopped because its service shut down"

Listener = Callable[[Execution], None]


class ExecutionService:
    """Owns every execution of the state machines registered with it.

    ``invoker`` is the Lambda runtime Task states call; ``records`` keeps finished
    executions (``None``: kept only while running, e.g. ``run-batch --no-history``);
    ``listeners`` hear of every finished execution, on the thread that ran it.
    ``callbacks`` holds the task tokens of every execution here (SendTaskSuccess and its
    kin answer through ``send_task_*``); ``publisher`` receives ``sns:publish`` messages.
    Executions started by executions (``states:startExecution``) run here too.
    """

    def __init__(self, *, invoker: LambdaInvoker | None = None, records: ExecutionRecords | None = None,
                 clock: Clock | None = None, listeners: Sequence[Listener] = (), region: str = LOCAL_REGION,
                 account: str = LOCAL_ACCOUNT, owns_records: bool = True,
                 machines: StateMachineRegistry | None = None, callbacks: TaskTokens | None = None,
                 publisher: MessagePublisher | None = None, objects: ObjectStore | None = None) -> None:
        self.invoker = invoker
        self.records = records
        self._owns_records = owns_records
        self.clock: Clock = clock or SystemClock()
        self.listeners = list(listeners)
        self.region = region
        self.account = account
        # Started, not yet handed to the records: Standard executions by name, Express ones by ARN.
        self._live: dict[str, ExecutionRun] = {}
        self._claims: set[str] = set()  # Standard names being started right now
        # The last finished ones, so a record is found right after its end even when nothing is kept.
        self._recent: OrderedDict[str, Execution] = OrderedDict()
        self._lock = threading.Lock()
        #: Finished runs being handed to the records and the listeners (``_keep``): ``close`` waits for them.
        self._handing_over = 0
        self._handed_over = threading.Condition(self._lock)
        self._threads = ElasticThreads("scones-execution")
        self._closed = False
        #: What the executions reach beyond the interpreter: task tokens, child executions, SNS messages.
        self.connections = Connections(callbacks or TaskTokens(), ServiceChildren(self), publisher)
        #: The buckets Distributed Maps read items from and write results to.
        self.objects = objects
        #: The map runs of Distributed Maps; their Standard children are kept like any execution.
        self.map_runs = MapRuns(self._keep_child)
        #: The state machines (and, with ``machines``, where those made by ``create_state_machine`` are kept).
        self.machines = StateMachineCatalog(invoker=invoker, clock=self.clock, region=region, account=account,
                                            registry=machines, running=self._running_of, objects=objects,
                                            map_runs=self.map_runs)

    # -- state machines (see ``StateMachineCatalog``) -------------------------------
    @property
    def registry(self) -> StateMachineRegistry | None:
        return self.machines.registry

    def state_machine_arn(self, name: str) -> str:
        return self.machines.arn(name)

    def default_role_arn(self) -> str:
        return self.machines.default_role_arn()

    def register(self, name: str, definition: RunPlan | Mapping[str, Any] | str, *,
                 info: MachineInfo | None = None) -> StateMachine:
        """Register (or replace) a state machine in memory; the definition is parsed and validated here, once."""
        return self.machines.register(name, definition, info=info)

    def state_machine(self, name_or_arn: str) -> StateMachine:
        return self.machines.get(name_or_arn)

    def state_machines(self) -> list[StateMachine]:
        return self.machines.all()

    def create_state_machine(self, name: str, definition: str, *, role_arn: str,
                             type: MachineType = MachineType.STANDARD, logging: Mapping[str, Any] | None = None,
                             tracing: Mapping[str, Any] | None = None,
                             tags: Mapping[str, str] | None = None) -> tuple[StateMachine, bool]:
        return self.machines.create(name, definition, role_arn=role_arn, type=type, logging=logging,
                                    tracing=tracing, tags=tags)

    def update_state_machine(self, name_or_arn: str, *, definition: str | None = None, role_arn: str | None = None,
                             logging: Mapping[str, Any] | None = None,
                             tracing: Mapping[str, Any] | None = None) -> StateMachine:
        return self.machines.update(name_or_arn, definition=definition, role_arn=role_arn, logging=logging,
                                    tracing=tracing)

    def delete_state_machine(self, name_or_arn: str) -> None:
        self.machines.delete(name_or_arn)

    def retag_state_machine(self, name_or_arn: str, *, add: Mapping[str, str] | None = None,
                            remove: Sequence[str] = ()) -> StateMachine:
        return self.machines.retag(name_or_arn, add=add, remove=remove)

    def revision_of(self, execution: Execution) -> tuple[StateMachine, Revision]:
        return self.machines.revision_of(execution)

    def _running_of(self, state_machine_arn: str) -> bool:
        with self._lock:
            return any(run.record.state_machine_arn == state_machine_arn for run in self._live.values())

    # -- starting ------------------------------------------------------------------
    def start(self, state_machine: str, input: Any = None, *, name: str | None = None) -> ExecutionRun:
        """StartExecution: claim the name, record the start, and run on a thread of its own.

        Starting a Standard execution under the name of one still running, with the same input,
        returns that one (StartExecution is idempotent on AWS); with another input, or once it has
        ended, the name is taken (``ExecutionAlreadyExists``).
        """
        run, fresh = self._begin(state_machine, input, name)
        if fresh:
            self._threads.submit(self._finish, run)
        return run

    def run(self, state_machine: str, input: Any = None, *, name: str | None = None) -> Execution:
        """Run one execution to its end on this thread (another thread may ``stop`` it meanwhile)."""
        run, fresh = self._begin(state_machine, input, name)
        if not fresh:  # the same execution, already running on another thread
            run.done.wait()
            return run.record
        return self._finish(run)

    def _begin(self, state_machine: str, input: Any, name: str | None) -> tuple[ExecutionRun, bool]:
        if self._closed:
            raise WorkflowError("The execution service has been closed")
        machine = self.state_machine(state_machine)
        if machine.info.status is MachineStatus.DELETING:
            raise StateMachineDeleting(f"State Machine Is Being Deleted: {machine.arn}")
        if machine.type is MachineType.EXPRESS:
            return self._begin_express(machine, input, name), True
        claimed = False
        if name is not None:
            check_execution_name(name)
            with self._lock:
                running = self._live.get(name)
                taken = running is not None or name in self._claims or name in self._recent
                if not taken:
                    self._claims.add(name)
            if running is not None and _same_start(running, machine, input):
                return running, False
            if taken or (self.records is not None and not self.records.reserve(name)):
                with self._lock:
                    if not taken:
                        self._claims.discard(name)
                where = self.records.store.uri if self.records is not None else "this process"
                raise ExecutionAlreadyExists(
                    f"Execution Already Exists: an execution named {name!r} is already in {where} "
                    "(or is running now)",
                    hint="execution names are unique, as on AWS: pick another --name or omit it")
            claimed = True
        try:
            with self.machines.changes:
                machine = self.state_machine(machine.name)  # the revision in effect now
                run = machine.executor.start(input, name=name, region=self.region, account=self.account,
                                             role_arn=machine.info.role_arn, connections=self.connections)
        except BaseException:
            if claimed:
                with self._lock:
                    self._claims.discard(name or "")
                if self.records is not None:
                    self.records.release(name or "")
            raise
        with self._lock:
            self._live[run.record.name] = run
            self._claims.discard(run.record.name)
        return run, True

    def _begin_express(self, machine: StateMachine, input: Any, name: str | None) -> ExecutionRun:
        """An Express execution: any name (even one in use), an ARN of its own, nothing kept."""
        name = str(uuid.uuid4()) if name is None else name
        check_execution_name(name)
        arn = f"arn:aws:states:{self.region}:{self.account}:express:{machine.name}:{name}:{uuid.uuid4()}"
        with self.machines.changes:
            machine = self.state_machine(machine.name)
            run = machine.executor.start(input, name=name, region=self.region, account=self.account,
                                         execution_arn=arn, role_arn=machine.info.role_arn,
                                         connections=self.connections)
        # "Maximum duration: 5 minutes" (Standard vs. Express): the sooner of that and the machine's TimeoutSeconds.
        context = run.context
        limit = context.start_time + EXPRESS_MAX_SECONDS
        if context.deadline is None or context.deadline > limit:
            context.deadline = limit
        with self._lock:
            self._live[arn] = run
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
        key = _key_of(record)
        with self._lock:
            if self._live.get(key) is not run:
                return
            del self._live[key]
            self._recent[key] = record
            if len(self._recent) > RECENT_EXECUTIONS:
                self._recent.popitem(last=False)
            self._handing_over += 1
        try:
            if self.records is not None and not _is_express(record.execution_arn):
                self.records.submit(record)
            self.machines.ended(record.state_machine_arn)
            for listener in self.listeners:
                try:
                    listener(record)
                except Exception:  # a listener's failure never changes the execution's outcome
                    LOG.exception("a listener failed on execution %s", record.name)
        finally:
            with self._lock:
                self._handing_over -= 1
                self._handed_over.notify_all()

    def _keep_child(self, record: Execution) -> None:
        """A Distributed Map's Standard child ended: kept like any execution (listeners are not told)."""
        if self.records is not None:
            self.records.submit(record)

    # -- looking at executions ----------------------------------------------------
    def describe(self, name_or_arn: str) -> Execution:
        """DescribeExecution: the live record of a running execution, or the kept one."""
        name = _execution_name(name_or_arn)
        key = _lookup_key(name_or_arn)
        with self._lock:
            run = self._live.get(key)
            found = run.record if run is not None else self._recent.get(key)
        if found is None and self.records is not None and key == name:
            found = self.records.find(name)
        if found is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: {name_or_arn}",
                                        hint="list executions with 'scones workflow history' or check the name")
        return found

    def running(self) -> list[Execution]:
        with self._lock:
            return [run.record for run in self._live.values()]

    def list(self, *, state_machine: str | None = None, status: ExecutionStatus | None = None,
             limit: int = 100, next_token: str | None = None, name_contains: str | None = None) -> Page:
        """ListExecutions: newest first, running ones included, ``limit`` at a time; ``name_contains``
        keeps the executions whose name holds it, whatever the case (the console's search)."""
        machine_arn = self.state_machine_arn(_execution_name(state_machine)) if state_machine else None
        with self._lock:
            in_memory = [*self._recent.values(), *(run.record for run in self._live.values())]
        kept = (self.records.summaries(state_machine_arn=machine_arn, status=status, limit=limit,
                                       next_token=next_token, name_contains=name_contains)
                if self.records is not None else Page([], None))
        # The copy in memory is the newest: it comes last, so it is the one a name keeps.
        return page_of([*kept.items, *map(ExecutionSummary.of, in_memory)], machine_arn, status, limit, next_token,
                       name_contains, more=kept.next_token is not None)

    def stop(self, name_or_arn: str, *, error: str | None = None, cause: str | None = None) -> Execution:
        """StopExecution: a running execution ends ABORTED now; a finished one is left as it is."""
        with self._lock:
            run = self._live.get(_lookup_key(name_or_arn))
        if run is None:
            return self.describe(name_or_arn)
        if run.stop(error, cause):
            # Final now, and kept now: its thread may stay inside a function for a while.
            self._keep(run)
        return run.record

    def wait(self, name_or_arn: str, timeout: float | None = None) -> Execution:
        """The execution once it has ended (or as it is after ``timeout`` seconds)."""
        with self._lock:
            run = self._live.get(_lookup_key(name_or_arn))
        if run is not None:
            run.done.wait(timeout)
            return run.record
        return self.describe(name_or_arn)

    # -- task tokens (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) ---------------
    @property
    def callbacks(self) -> TaskTokens:
        return self.connections.callbacks

    def send_task_success(self, token: str, output: str) -> WaitingTask:
        """The task waiting with ``token`` succeeds with ``output`` (JSON text); ``CallbackError`` as AWS refuses."""
        return self._answer(token, lambda: self.callbacks.succeed(token, output))

    def send_task_failure(self, token: str, error: str | None = None, cause: str | None = None) -> WaitingTask:
        return self._answer(token, lambda: self.callbacks.fail(token, error, cause))

    def send_task_heartbeat(self, token: str) -> WaitingTask:
        return self._answer(token, lambda: self.callbacks.heartbeat(token))

    def _answer(self, token: str, answer: Callable[[], WaitingTask]) -> WaitingTask:
        """A token no task holds any more gets TaskTimedOut when its execution is known here (it ended, was
        stopped, or moved on), TaskDoesNotExist otherwise (docs/aws-facts.md, Task tokens)."""
        try:
            return answer()
        except CallbackError as exc:
            if exc.kind is not CallbackErrorKind.TASK_DOES_NOT_EXIST:
                raise
            arn = token_execution(token)
            try:
                if arn is not None:
                    self.describe(arn)
            except ExecutionDoesNotExist:
                raise exc from None
            raise CallbackError(CallbackErrorKind.TASK_TIMED_OUT) from exc

    # -- life cycle ----------------------------------------------------------------
    def flush(self) -> None:
        """Wait until every finished execution is kept."""
        if self.records is not None:
            self.records.flush()

    def close(self, *, stop_running: bool = True, grace_seconds: float = 0.0, cause: str = SHUTDOWN_CAUSE) -> None:
        """Stop taking executions; running ones end ABORTED with ``cause`` (after ``grace_seconds`` to
        finish on their own), and every record is written before this returns."""
        self._closed = True
        deadline = time.monotonic() + grace_seconds
        for record in self.running():
            with self._lock:
                run = self._live.get(_key_of(record))
            if run is None:
                continue
            if grace_seconds > 0:
                run.done.wait(max(0.0, deadline - time.monotonic()))
            if stop_running and not run.done.is_set():
                self.stop(record.execution_arn, cause=cause)
            if run.done.is_set():
                # Ended, but its thread may not have handed it over yet (a waiter woke first): kept now,
                # while the records are still open, or the process could end without its history.
                self._keep(run)
        with self._lock:
            self._handed_over.wait_for(lambda: self._handing_over == 0)
        if self.records is not None:
            if self._owns_records:
                self.records.close()
            else:
                self.records.flush()

    def with_invoker(self, invoker: LambdaInvoker | None) -> ExecutionService:
        """The same state machines, records and listeners, calling functions through ``invoker`` (a recording
        wrapper, say); closing it leaves the records open for this service."""
        other = ExecutionService(invoker=invoker, records=self.records, clock=self.clock, listeners=self.listeners,
                                 region=self.region, account=self.account, owns_records=False,
                                 callbacks=self.callbacks, publisher=self.connections.publisher,
                                 objects=self.objects)
        for machine in self.state_machines():
            other.register(machine.name, machine.plan, info=machine.info)
        return other

    def __enter__(self) -> ExecutionService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _execution_name(name_or_arn: str) -> str:
    """The last part of an execution or state machine ARN, or the name itself."""
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _is_express(arn: str) -> bool:
    """``arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>``."""
    return arn.startswith("arn:") and arn.split(":", 6)[5:6] == ["express"]


def _key_of(record: Execution) -> str:
    """How a live execution is found: a Standard one by its (unique) name, an Express one by its ARN."""
    return record.execution_arn if _is_express(record.execution_arn) else record.name


def _lookup_key(name_or_arn: str) -> str:
    return name_or_arn if _is_express(name_or_arn) else _execution_name(name_or_arn)


def _same_start(running: ExecutionRun, machine: StateMachine, input: Any) -> bool:
    """A repeated StartExecution: same state machine, same input, and the first one still runs."""
    record = running.record
    return (record.state_machine_arn == machine.arn and not running.done.is_set()
            and to_compact_json({} if input is None else input) == to_compact_json(record.input))
