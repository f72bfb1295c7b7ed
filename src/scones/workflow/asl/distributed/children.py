"""One child execution of a map run: its own context object, variables and (Standard only) history.

A child is an execution in its own right (its ARN, name, ``$$.Execution``), run on
the calling thread to its end by ``ExecutionRun``, like any execution. An Express
child keeps no history (AWS keeps none either); a Standard child's record, history
included, goes to the map-run host, whose sink keeps it like any other execution.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from scones.workflow.asl.clock import iso_timestamp
from scones.workflow.asl.context import ExecutionContext, Frame
from scones.workflow.asl.distributed.map_run import ExecutionType, MapRun
from scones.workflow.asl.errors import ExecutionAborted
from scones.workflow.asl.history import EventType, History
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.variables import VariableScope

if TYPE_CHECKING:
    from scones.workflow.asl.program import StateMachine

_SUCCEEDED_REASON: Final = "Execution is SUCCEEDED and cannot be redriven"


class DiscardedHistory(History):
    """An Express child's history: event ids go on, nothing is kept."""

    def __init__(self) -> None:
        super().__init__(lambda: 0.0, None)
        self._next = 0

    def add(self, event_type: EventType, details: dict[str, Any] | None, previous: int) -> int:
        if self._sealed:
            raise ExecutionAborted()
        self._next += 1
        return self._next

    def remember_text(self, value: Any, text: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ChildResult:
    """What a map run keeps of an ended child: enough for its result entry, nothing of its history."""

    name: str
    arn: str
    input: Any
    #: The execution status name (SUCCEEDED, FAILED, TIMED_OUT, ABORTED).
    status: str
    output: Any
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float
    items: int

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def output_value(self) -> Any:
        """The child's place in the Map's result: its output, or its error output when it failed."""
        if self.succeeded:
            return self.output
        out: dict[str, Any] = {}
        if self.error is not None:
            out["Error"] = self.error
        if self.cause is not None:
            out["Cause"] = self.cause
        return out

    def entry(self, state_machine_arn: str) -> dict[str, Any]:
        """The child as ``ResultWriter`` files list it (keys in AWS's order)."""
        out: dict[str, Any] = {}
        if not self.succeeded:
            if self.cause is not None:
                out["Cause"] = self.cause
            if self.error is not None:
                out["Error"] = self.error
        out["ExecutionArn"] = self.arn
        out["Input"] = to_compact_json(self.input)
        out["InputDetails"] = {"Included": True}
        out["Name"] = self.name
        if self.succeeded:
            out["Output"] = to_compact_json(self.output)
            out["OutputDetails"] = {"Included": True}
        out["RedriveCount"] = 0
        if self.succeeded:
            out["RedriveStatus"] = "NOT_REDRIVABLE"
            out["RedriveStatusReason"] = _SUCCEEDED_REASON
        else:
            out["RedriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
        out["StartDate"] = iso_timestamp(self.start_time)
        out["StateMachineArn"] = state_machine_arn
        out["Status"] = self.status
        out["StopDate"] = iso_timestamp(self.stop_time)
        return out


class ChildRunner(Protocol):
    """Runs one child execution of ``run`` to its end on this thread (``Executor`` provides it)."""

    def __call__(self, parent: Frame, run: MapRun, processor: StateMachine, child_input: Any,
                 items: int) -> ChildResult: ...


def child_frame(parent: Frame, run: MapRun, name: str, child_input: Any) -> Frame:
    """A child's context and first frame: an execution of its own, ``ExecutionStarted`` recorded.

    Built field by field rather than with ``ExecutionContext.create``: a map run starts thousands of
    children, and the parent's random source (intrinsics) serves them all.
    """
    outer = parent.execution
    clock = outer.clock
    now = clock.now()
    express = run.execution_type is ExecutionType.EXPRESS
    machine = f"{outer.state_machine_name}/{run.label}"
    ctx = ExecutionContext(
        execution_arn=run.child_arn(name, outer.intrinsics.rng), execution_name=name,
        state_machine_arn=run.state_machine_arn, state_machine_name=machine, role_arn=outer.role_arn,
        start_time=now, input=child_input, clock=clock, invoker=outer.invoker,
        history=DiscardedHistory() if express else History(clock.now, outer.history_quota),
        intrinsics=outer.intrinsics, region=outer.region, account=outer.account, store=outer.store,
        stop=outer.stop,  # StopExecution of the parent stops its children too
        tasks_watch_stop=outer.tasks_watch_stop, objects=outer.objects, map_runs=outer.map_runs,
        run_child=outer.run_child, history_quota=outer.history_quota, connections=outer.connections)
    frame = Frame(ctx, ctx.base_context_object(), VariableScope())
    frame.event(EventType.EXECUTION_STARTED, {"input": child_input, "roleArn": ctx.role_arn})
    return frame


def new_child_name(rng: random.Random) -> str:
    """A version-4 UUID from ``rng``: names need not be secret, and ``uuid4`` costs a system call each."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
