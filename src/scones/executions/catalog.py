"""The state machines an execution service runs: registered in memory, made, revised, tagged and deleted.

``register`` is the in-memory side (the CLI registers the definition it runs);
``create``, ``update``, ``retag`` and ``delete`` are the API's, and write through the
``StateMachineRegistry`` when there is one, so they outlive a restart. A state machine
in use keeps running: an update is a new revision for the executions that start
after it, a deletion waits until the last running execution has ended (``ended``).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

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
from scones.workflow.asl.clock import Clock
from scones.workflow.asl.errors import DefinitionError, InputError
from scones.workflow.asl.executor import Execution, Executor, check_execution_name
from scones.workflow.asl.parse import load_definition

if TYPE_CHECKING:
    from scones.lambda_runtime.contract import LambdaInvoker
    from scones.workflow.asl.distributed.map_run import MapRunHost
    from scones.workflow.asl.distributed.objects import ObjectStore

LOG = logging.getLogger(__name__)


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

    def with_info(self, info: MachineInfo) -> StateMachine:
        return replace(self, info=info)


class StateMachineCatalog:
    """The state machines of one execution service; ``running(arn)`` tells whether any execution of
    a state machine still runs (a deletion waits for it)."""

    def __init__(self, *, invoker: LambdaInvoker | None, clock: Clock, region: str, account: str,
                 registry: StateMachineRegistry | None, running: Callable[[str], bool],
                 objects: ObjectStore | None = None, map_runs: MapRunHost | None = None) -> None:
        self.invoker = invoker
        self.objects = objects
        self.map_runs = map_runs
        self.clock = clock
        self.region = region
        self.account = account
        #: Where state machines made by ``create`` are kept (None: in memory only).
        self.registry = registry
        self._running = running
        self._machines: dict[str, StateMachine] = {}
        self._lock = threading.Lock()
        #: Held while a state machine changes and while an execution picks its revision (``Executor.start``),
        #: so the revision an execution ran with is the one in effect at its start time, exactly.
        self.changes = threading.RLock()
        if registry is not None:
            self._load(registry)

    def arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def default_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/scones-local-states"

    # -- in memory -----------------------------------------------------------------
    def register(self, name: str, definition: RunPlan | Mapping[str, Any] | str, *,
                 info: MachineInfo | None = None) -> StateMachine:
        """Register (or replace) a state machine in memory; the definition is parsed and validated here,
        once. ``info`` is its configuration (by default: a STANDARD machine created now)."""
        check_execution_name(name)  # state machine names follow the same rules
        plan = definition if isinstance(definition, RunPlan) else RunPlan.from_definition(definition)
        if info is None:
            text = definition if isinstance(definition, str) else json.dumps(plan.document, ensure_ascii=False)
            now = self.clock.now()
            info = MachineInfo(name, self.arn(name), MachineType.STANDARD, now,
                               (Revision(text, self.default_role_arn(), now),))
        executor = Executor(plan.machine, invoker=self.invoker, clock=self.clock, state_machine_name=name,
                            objects=self.objects, map_runs=self.map_runs)
        machine = StateMachine(name, info.arn, plan, executor, info)
        self._put(machine)
        return machine

    def get(self, name_or_arn: str) -> StateMachine:
        name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        with self._lock:
            machine = self._machines.get(name)
        if machine is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: {name_or_arn}",
                                           hint=f"known: {', '.join(sorted(self._machines)) or 'none'}")
        return machine

    def all(self) -> list[StateMachine]:
        with self._lock:
            return sorted(self._machines.values(), key=lambda m: m.name)

    # -- through the API -----------------------------------------------------------
    def create(self, name: str, definition: str, *, role_arn: str, type: MachineType = MachineType.STANDARD,
               logging: Mapping[str, Any] | None = None, tracing: Mapping[str, Any] | None = None,
               tags: Mapping[str, str] | None = None) -> tuple[StateMachine, bool]:
        """CreateStateMachine: validate, keep and register; ``(machine, created)``.

        Idempotent as on AWS: the same name with the same definition, type, logging and tracing
        configuration returns the existing machine (``created`` False; a different role or tags are
        ignored); anything else under a taken name is ``StateMachineAlreadyExists``.
        """
        check_execution_name(name)
        plan = plan_for(definition, type)  # DefinitionError before anything changes
        with self.changes:
            now = self.clock.now()
            revision = Revision(definition, role_arn, now, None, dict(logging or DEFAULT_LOGGING),
                                dict(tracing or DEFAULT_TRACING))
            with self._lock:
                existing = self._machines.get(name)
            if existing is not None:
                if existing.info.status is MachineStatus.DELETING:
                    raise StateMachineDeleting(f"State Machine Is Being Deleted: {existing.arn}")
                current = existing.info.current
                if existing.type is type and (current.definition, dict(current.logging), dict(current.tracing)) \
                        == (revision.definition, dict(revision.logging), dict(revision.tracing)):
                    return existing, False
                raise StateMachineAlreadyExists(f"State Machine Already Exists: {existing.arn}",
                                                hint="update it, or delete it first")
            info = MachineInfo(name, self.arn(name), type, now, (revision,), tags=dict(tags or {}))
            self._keep(info)
            return self.register(name, plan, info=info), True

    def update(self, name_or_arn: str, *, definition: str | None = None, role_arn: str | None = None,
               logging: Mapping[str, Any] | None = None, tracing: Mapping[str, Any] | None = None) -> StateMachine:
        """UpdateStateMachine: a new revision from now on; running executions keep the one they started with.
        An update that changes nothing keeps the current revision (and its id)."""
        with self.changes:
            machine = self.get(name_or_arn)
            plan = plan_for(definition, machine.type) if definition is not None else None
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
            self._keep(info)
            return self.register(machine.name, plan or machine.plan, info=info)

    def retag(self, name_or_arn: str, *, add: Mapping[str, str] | None = None,
              remove: Sequence[str] = ()) -> StateMachine:
        """TagResource / UntagResource: the machine's tags, changed and kept."""
        with self.changes:
            machine = self.get(name_or_arn)
            gone = set(remove)
            tags = {k: v for k, v in machine.info.tags.items() if k not in gone}
            tags.update(add or {})
            return self._replace(machine.with_info(machine.info.tagged(tags)))

    def delete(self, name_or_arn: str) -> None:
        """DeleteStateMachine: gone now when nothing runs; otherwise DELETING (no new executions) until
        its last running execution has ended. Deleting an unknown machine is not an error (as on AWS)."""
        with self.changes:
            try:
                machine = self.get(name_or_arn)
            except StateMachineDoesNotExist:
                return
            if self._running(machine.arn):
                self._replace(machine.with_info(machine.info.deleting()))
            else:
                self._forget(machine.name)

    def ended(self, state_machine_arn: str) -> None:
        """An execution of this state machine has ended: a deletion that waited for it finishes now."""
        name = state_machine_arn.rsplit(":", 1)[-1]
        with self._lock:
            machine = self._machines.get(name)
        if machine is None or machine.info.status is not MachineStatus.DELETING:
            return
        with self.changes:
            with self._lock:
                machine = self._machines.get(name)
            if machine is not None and machine.info.status is MachineStatus.DELETING \
                    and not self._running(machine.arn):
                self._forget(name)

    def revision_of(self, execution: Execution) -> tuple[StateMachine, Revision]:
        """DescribeStateMachineForExecution: the state machine and the revision the execution started with."""
        machine = self.get(execution.state_machine_arn)
        return machine, machine.info.revision_at(execution.start_time)

    # -- keeping -------------------------------------------------------------------
    def _put(self, machine: StateMachine) -> None:
        with self._lock:
            self._machines[machine.name] = machine

    def _keep(self, info: MachineInfo) -> None:
        if self.registry is not None:
            self.registry.put(info)

    def _replace(self, machine: StateMachine) -> StateMachine:
        self._keep(machine.info)
        self._put(machine)
        return machine

    def _forget(self, name: str) -> None:
        if self.registry is not None:
            self.registry.remove(name)
        with self._lock:
            self._machines.pop(name, None)

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


def plan_for(definition: str, type: MachineType) -> RunPlan:
    """The definition parsed and validated, with the rules of its state machine type."""
    if type is MachineType.EXPRESS:  # first: AWS answers these alone
        problems = express_problems(load_definition(definition))
        if problems:
            raise DefinitionError(problems)
    return RunPlan.from_definition(definition)
