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

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from scones.errors import NotFoundError, WorkflowError
from scones.executions.machines import (
    DEFAULT_LOGGING,
    DEFAULT_TRACING,
    MachineInfo,
    MachineStatus,
    MachineType,
    Revision,
    StateMachineRegistry,
    express_problems,
)
from scones.executions.plan import RunPlan
from scones.executions.records import ExecutionRecords, ExecutionSummary, Page, decode_token, encode_token
from scones.executions.workers import ElasticThreads
from scones.workflow.asl.clock import Clock, SystemClock
from scones.workflow.asl.errors import DefinitionError, InputError
from scones.workflow.asl.executor import Execution, ExecutionRun, ExecutionStatus, Executor, check_execution_name
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.parse import load_definition

if TYPE_CHECKING:
    from scones.workflow.asl.lambda_integration import LambdaInvoker

LOG = logging.getLogger(__name__)

#: One account and one region for everything local (Lambda, Step Functions, IAM ARNs).
LOCAL_REGION: Final = "us-east-1"
LOCAL_ACCOUNT: Final = "123456789012"

#: Finished executions remembered in memory (beyond them, ``records`` answers).
RECENT_EXECUTIONS: Final = 1024
#: The cause of executions still running when the service closes (they end ABORTED).
SHUTDOWN_CAUSE: Final = "The execution was stopped because its service shut down"

Listener = Callable[[Execution], None]


class ExecutionAlreadyExists(InputError):
    """StartExecution with the name of a kept or running execution."""


class ExecutionDoesNotExist(NotFoundError):
    """No execution with that name or ARN, running or kept."""


class StateMachineDoesNotExist(NotFoundError):
    """No registered state machine with that name or ARN."""


class StateMachineAlreadyExists(InputError):
    """CreateStateMachine under a taken name with another definition, type or configuration."""


class StateMachineDeleting(InputError):
    """The state machine is being deleted: it waits for its running executions, and starts no more."""


@dataclass(frozen=True)
class StateMachine:
    """A registered state machine: its name, ARN, parsed definition and configuration."""

    name: str
    arn: str
    plan: RunPlan
    executor: Executor
    info: MachineInfo

    @property
    def type(self) -> MachineType:
        return self.info.type


class ExecutionService:
    """Owns every execution of the state machines registered with it.

    ``invoker`` is the Lambda runtime Task states call; ``records`` keeps finished
    executions (``None``: kept only while running, e.g. ``run-batch --no-history``);
    ``listeners`` hear of every finished execution, on the thread that ran it.
    """

    def __init__(self, *, invoker: LambdaInvoker | None = None, records: ExecutionRecords | None = None,
                 clock: Clock | None = None, listeners: Sequence[Listener] = (), region: str = LOCAL_REGION,
                 account: str = LOCAL_ACCOUNT, owns_records: bool = True,
                 machines: StateMachineRegistry | None = None) -> None:
        self.invoker = invoker
        self.records = records
        self._owns_records = owns_records
        self.clock: Clock = clock or SystemClock()
        self.listeners = list(listeners)
        self.region = region
        self.account = account
        #: Where state machines made by ``create_state_machine`` are kept (None: in memory only).
        self.registry = machines
        self._machines: dict[str, StateMachine] = {}
        # Started, not yet handed to the records: Standard executions by name, Express ones by ARN.
        self._live: dict[str, ExecutionRun] = {}
        self._claims: set[str] = set()  # Standard names being started right now
        # The last finished ones, so a record is found right after its end even when nothing is kept.
        self._recent: OrderedDict[str, Execution] = OrderedDict()
        self._lock = threading.Lock()
        # Held while a state machine changes and while an execution picks its revision, so the
        # revision an execution ran with is the one in effect at its start time, exactly.
        self._machines_lock = threading.RLock()
        self._threads = ElasticThreads("scones-execution")
        self._closed = False
        if machines is not None:
            self._load(machines)

    # -- state machines ------------------------------------------------------------
    def state_machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def default_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/scones-local-states"

    def register(self, name: str, definition: RunPlan | Mapping[str, Any] | str, *,
                 info: MachineInfo | None = None) -> StateMachine:
        """Register (or replace) a state machine in memory; the definition is parsed and validated here,
        once. ``info`` is its configuration (by default: a STANDARD machine created now)."""
        check_execution_name(name)  # state machine names follow the same rules
        plan = definition if isinstance(definition, RunPlan) else RunPlan.from_definition(definition)
        if info is None:
            text = definition if isinstance(definition, str) else json.dumps(plan.document, ensure_ascii=False)
            now = self.clock.now()
            info = MachineInfo(name, self.state_machine_arn(name), MachineType.STANDARD, now,
                               (Revision(text, self.default_role_arn(), now),))
        executor = Executor(plan.machine, invoker=self.invoker, clock=self.clock, state_machine_name=name)
        machine = StateMachine(name, info.arn, plan, executor, info)
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

    def create_state_machine(self, name: str, definition: str, *, role_arn: str,
                             type: MachineType = MachineType.STANDARD, logging: Mapping[str, Any] | None = None,
                             tracing: Mapping[str, Any] | None = None,
                             tags: Mapping[str, str] | None = None) -> tuple[StateMachine, bool]:
        """CreateStateMachine: validate, keep and register; ``(machine, created)``.

        Idempotent as on AWS: the same name with the same definition, type, logging and tracing
        configuration returns the existing machine (``created`` False; a different role or tags are
        ignored); anything else under a taken name is ``StateMachineAlreadyExists``.
        """
        check_execution_name(name)
        plan = _plan_for(definition, type)  # DefinitionError before anything changes
        with self._machines_lock:
            now = self.clock.now()
            revision = Revision(definition, role_arn, now, None, dict(logging or DEFAULT_LOGGING),
                                dict(tracing or DEFAULT_TRACING))
            with self._lock:
                existing = self._machines.get(name)
            if existing is not None:
                if existing.info.status is MachineStatus.DELETING:
                    raise StateMachineDeleting(f"State Machine Is Being Deleted: {existing.arn}")
                current = existing.info.current
                if existing.info.type is type and (current.definition, dict(current.logging),
                                                   dict(current.tracing)) == \
                        (revision.definition, dict(revision.logging), dict(revision.tracing)):
                    return existing, False
                raise StateMachineAlreadyExists(f"State Machine Already Exists: {existing.arn}",
                                                hint="update it, or delete it first")
            info = MachineInfo(name, self.state_machine_arn(name), type, now, (revision,), tags=dict(tags or {}))
            if self.registry is not None:
                self.registry.put(info)
            return self.register(name, plan, info=info), True

    def update_state_machine(self, name_or_arn: str, *, definition: str | None = None, role_arn: str | None = None,
                             logging: Mapping[str, Any] | None = None,
                             tracing: Mapping[str, Any] | None = None) -> StateMachine:
        """UpdateStateMachine: a new revision from now on; running executions keep the one they started with.
        An update that changes nothing keeps the current revision (and its id)."""
        with self._machines_lock:
            machine = self.state_machine(name_or_arn)
            plan = _plan_for(definition, machine.type) if definition is not None else None
            if machine.info.status is MachineStatus.DELETING:
                raise StateMachineDeleting(f"State Machine Is Being Deleted: {machine.arn}")
            current = machine.info.current
            revision = Revision(definition if definition is not None else current.definition,
                                role_arn if role_arn is not None else current.role_arn, self.clock.now(),
                                str(uuid.uuid4()), dict(logging) if logging is not None else current.logging,
                                dict(tracing) if tracing is not None else current.tracing)
            if revision.same_configuration(current):
                return machine
            info = machine.info.updated(revision)
            if self.registry is not None:
                self.registry.put(info)
            return self.register(machine.name, plan or machine.plan, info=info)

    def delete_state_machine(self, name_or_arn: str) -> None:
        """DeleteStateMachine: gone now when nothing runs; otherwise DELETING (no new executions) until
        its last running execution has ended. Deleting an unknown machine is not an error (as on AWS)."""
        with self._machines_lock:
            try:
                machine = self.state_machine(name_or_arn)
            except StateMachineDoesNotExist:
                return
            if self._running_of(machine.arn):
                info = machine.info.deleting()
                if self.registry is not None:
                    self.registry.put(info)
                with self._lock:
                    self._machines[machine.name] = StateMachine(machine.name, machine.arn, machine.plan,
                                                                machine.executor, info)
                return
            self._forget(machine.name)

    def retag_state_machine(self, name_or_arn: str, *, add: Mapping[str, str] | None = None,
                            remove: Sequence[str] = ()) -> StateMachine:
        """TagResource / UntagResource: the machine's tags, changed and kept."""
        with self._machines_lock:
            machine = self.state_machine(name_or_arn)
            tags = {k: v for k, v in machine.info.tags.items() if k not in set(remove)}
            tags.update(add or {})
            info = machine.info.tagged(tags)
            if self.registry is not None:
                self.registry.put(info)
            replaced = StateMachine(machine.name, machine.arn, machine.plan, machine.executor, info)
            with self._lock:
                self._machines[machine.name] = replaced
            return replaced

    def revision_of(self, execution: Execution) -> tuple[StateMachine, Revision]:
        """DescribeStateMachineForExecution: the state machine and the revision the execution started with."""
        machine = self.state_machine(execution.state_machine_arn)
        return machine, machine.info.revision_at(execution.start_time)

    def _forget(self, name: str) -> None:
        if self.registry is not None:
            self.registry.remove(name)
        with self._lock:
            self._machines.pop(name, None)

    def _running_of(self, state_machine_arn: str) -> bool:
        with self._lock:
            return any(run.record.state_machine_arn == state_machine_arn for run in self._live.values())

    def _load(self, registry: StateMachineRegistry) -> None:
        """The kept state machines, registered again; deletions a stop interrupted are finished now."""
        for info in registry.load():
            if info.status is MachineStatus.DELETING:  # nothing of a former process is still running
                registry.remove(info.name)
                continue
            try:
                self.register(info.name, info.definition, info=info)
            except WorkflowError as exc:
                LOG.warning("state machine %s in %s is not loaded: %s", info.name, registry.folder, exc)

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
            with self._machines_lock:
                machine = self.state_machine(machine.name)  # the revision in effect now
                run = machine.executor.start(input, name=name, region=self.region, account=self.account,
                                             role_arn=machine.info.role_arn)
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
        with self._machines_lock:
            machine = self.state_machine(machine.name)
            run = machine.executor.start(input, name=name, region=self.region, account=self.account,
                                         execution_arn=arn, role_arn=machine.info.role_arn)
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
        if self.records is not None and not _is_express(record.execution_arn):
            self.records.submit(record)
        self._finish_deletion(record.state_machine_arn)
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # a listener's failure never changes the execution's outcome
                LOG.exception("a listener failed on execution %s", record.name)

    def _finish_deletion(self, state_machine_arn: str) -> None:
        """The last running execution of a DELETING state machine has ended: the machine goes now."""
        name = state_machine_arn.rsplit(":", 1)[-1]
        with self._lock:
            machine = self._machines.get(name)
        if machine is None or machine.info.status is not MachineStatus.DELETING:
            return
        with self._machines_lock:
            with self._lock:
                machine = self._machines.get(name)
            if machine is not None and machine.info.status is MachineStatus.DELETING \
                    and not self._running_of(machine.arn):
                self._forget(name)

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
            other.register(machine.name, machine.plan, info=machine.info)
        return other

    def __enter__(self) -> ExecutionService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _execution_name(name_or_arn: str) -> str:
    """The last part of an execution or state machine ARN, or the name itself."""
    return name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _plan_for(definition: str, type: MachineType) -> RunPlan:
    """The definition parsed and validated, with the rules of its state machine type."""
    if type is MachineType.EXPRESS:  # first: AWS answers these alone
        problems = express_problems(load_definition(definition))
        if problems:
            raise DefinitionError(problems)
    return RunPlan.from_definition(definition)


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
