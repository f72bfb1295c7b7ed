"""Per-execution and per-thread runtime data: what a state needs to evaluate.

``ExecutionContext`` is shared by every branch and iteration of one execution
(clock, invoker, history, identifiers); a ``Frame`` belongs to one thread of
control (the top level, one Parallel branch, one Map iteration) and carries its
own context object, variable scope and position in the history.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scones.lambda_runtime.contract import LambdaInvoker
from scones.workflow.asl.clock import Clock, interruptible_sleep, iso_timestamp
from scones.workflow.asl.connections import Connections
from scones.workflow.asl.errors import Cancelled, ExecutionAborted, ExecutionTimedOut
from scones.workflow.asl.history import MAX_HISTORY_EVENTS, EventType, History
from scones.workflow.asl.paths import PathScope
from scones.workflow.asl.variables import UndefinedVariable, VariableScope

if TYPE_CHECKING:
    from scones.store import Store
    from scones.workflow.asl.distributed.children import ChildRunner
    from scones.workflow.asl.distributed.map_run import MapRunHost
    from scones.workflow.asl.distributed.objects import ObjectStore


@dataclass(frozen=True)
class IntrinsicContext:
    """What intrinsic functions need beyond their arguments: randomness, injectable for tests.

    It lives here, not in ``intrinsics``, so that a definition without intrinsic functions never imports
    their parser.
    """

    rng: random.Random
    new_uuid: Callable[[], str]


@dataclass
class ExecutionContext:
    execution_arn: str
    execution_name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: float
    input: Any
    clock: Clock
    invoker: LambdaInvoker | None
    history: History
    intrinsics: IntrinsicContext
    region: str = "us-east-1"
    account: str = "123456789012"
    store: Store | None = None
    deadline: float | None = None
    stop: threading.Event | None = None
    #: Whether a running Task must poll ``stop`` (it runs on a helper thread then); see ``Executor.start``.
    tasks_watch_stop: bool = False
    #: Task tokens, child executions, published messages (``connections``).
    connections: Connections = field(default_factory=Connections)
    #: Where a Distributed Map reads items and writes results (S3 buckets as local folders).
    objects: ObjectStore | None = None
    #: Who hears of map runs and keeps Standard child executions (the execution service).
    map_runs: MapRunHost | None = None
    #: Runs a Distributed Map's child execution (set by ``Executor``, which owns how executions run).
    run_child: ChildRunner | None = None
    #: The history quota this execution runs with (its Standard children get the same).
    history_quota: int | None = MAX_HISTORY_EVENTS
    _jsonata_functions: dict[str, Any] | None = None

    def jsonata_functions(self) -> dict[str, Any]:
        """AWS's JSONata extension functions, bound to this execution's random source."""
        if self._jsonata_functions is None:
            from scones.workflow.asl.jsonata_eval import extensions

            self._jsonata_functions = extensions(self.intrinsics.rng)
        return self._jsonata_functions

    def pause(self, seconds: float, cancel: threading.Event | None = None) -> None:
        """Sleep for a Wait state or a retry delay, cut short by StopExecution or the execution's deadline.

        Raises ``ExecutionAborted`` as soon as ``stop`` is set, ``Cancelled`` when ``cancel`` (a failed
        sibling branch or iteration) is, and ``ExecutionTimedOut`` once the state machine's
        ``TimeoutSeconds`` is reached, so none of them waits for the sleep to end.
        """
        timed_out = False
        if self.deadline is not None:
            remaining = self.deadline - self.clock.now()
            if seconds > remaining:
                seconds, timed_out = max(0.0, remaining), True
        if interruptible_sleep(self.clock, seconds, self.stop, cancel):
            if self.stop is not None and self.stop.is_set():
                raise ExecutionAborted()
            raise Cancelled()
        if timed_out:
            raise ExecutionTimedOut()

    @classmethod
    def create(cls, *, name: str, state_machine_name: str, input: Any, clock: Clock,
               invoker: LambdaInvoker | None, store: Store | None = None, seed: int | None = None,
               region: str = "us-east-1", account: str = "123456789012",
               max_history_events: int | None = MAX_HISTORY_EVENTS, execution_arn: str | None = None,
               role_arn: str | None = None, connections: Connections | None = None) -> ExecutionContext:
        """``execution_arn`` overrides the Standard-workflow form (an Express execution's ARN is
        ``...:express:<machine>:<name>:<id>``); ``role_arn`` is the state machine's role."""
        sm_arn = f"arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
        rng = random.Random(seed)
        return cls(
            execution_arn=execution_arn or f"arn:aws:states:{region}:{account}:execution:{state_machine_name}:{name}",
            execution_name=name,
            state_machine_arn=sm_arn,
            state_machine_name=state_machine_name,
            role_arn=role_arn or f"arn:aws:iam::{account}:role/scones-local-states",
            start_time=clock.now(),
            input=input,
            clock=clock,
            invoker=invoker,
            history=History(clock.now, max_history_events),
            intrinsics=IntrinsicContext(rng=rng, new_uuid=lambda: str(uuid.uuid4())),
            region=region,
            account=account,
            store=store,
            connections=connections or Connections(),
            history_quota=max_history_events,
        )

    @property
    def express(self) -> bool:
        """An Express execution (``arn:...:express:<machine>:<name>:<id>``)."""
        return self.execution_arn.split(":", 6)[5:6] == ["express"]

    def base_context_object(self) -> dict[str, Any]:
        execution: dict[str, Any] = {
            "Id": self.execution_arn,
            "Input": self.input,
            "StartTime": iso_timestamp(self.start_time),
            "Name": self.execution_name,
            "RoleArn": self.role_arn,
        }
        if not self.express:
            # Redrive is for Standard executions only, so an Express context has no RedriveCount
            # (docs/aws-facts.md, Express workflows: a reading of the docs, not a recording).
            execution["RedriveCount"] = 0
        return {"Execution": execution,
                "StateMachine": {"Id": self.state_machine_arn, "Name": self.state_machine_name}}


class Frame:
    """One thread of control inside an execution."""

    __slots__ = ("execution", "context_object", "variables", "last_event_id", "entered_event_id", "state_name",
                 "retry_count", "cancel")

    def __init__(self, execution: ExecutionContext, context_object: dict[str, Any], variables: VariableScope,
                 last_event_id: int = 0) -> None:
        self.execution = execution
        self.context_object = context_object
        self.variables = variables
        self.last_event_id = last_event_id
        self.entered_event_id = 0
        self.state_name = ""
        self.retry_count: int | None = None
        #: Set when a sibling branch/iteration failed (see ``concurrency.run_jobs``); None at the top level.
        self.cancel: threading.Event | None = None

    def event(self, event_type: EventType, details: dict[str, Any] | None = None) -> int:
        self.last_event_id = self.execution.history.add(event_type, details, self.last_event_id)
        return self.last_event_id

    def enter_state(self, name: str, with_retry_count: bool) -> None:
        self.state_name = name
        state: dict[str, Any] = {"EnteredTime": iso_timestamp(self.execution.clock.now()), "Name": name}
        if with_retry_count:
            state["RetryCount"] = 0
        # A new dict per state: earlier references (history, outputs) stay untouched.
        co = dict(self.context_object)
        co["State"] = state
        self.context_object = co

    def set_retry_count(self, count: int) -> None:
        co = dict(self.context_object)
        state = dict(co.get("State") or {})
        state["RetryCount"] = count
        co["State"] = state
        self.context_object = co

    def variable(self, name: str) -> Any:
        return self.variables.get(name)

    def scope(self, data: Any) -> PathScope:
        return PathScope(data, self.context_object, self.variables.get)

    def child(self, context_object: dict[str, Any]) -> Frame:
        """A frame for a branch or iteration: its own context and variable scope."""
        return Frame(self.execution, context_object, self.variables.child(), self.last_event_id)

    def error_prefix(self) -> str:
        """The sentence AWS starts runtime-error causes with."""
        return (f"An error occurred while executing the state '{self.state_name}' "
                f"(entered at the event id #{self.entered_event_id}).")


VariableGetter = Callable[[str], Any]

__all__ = ["ExecutionContext", "Frame", "UndefinedVariable"]
