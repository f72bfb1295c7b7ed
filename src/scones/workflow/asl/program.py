"""A state machine (top level, a Parallel branch or a Map processor): states and the loop that runs them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import Cancelled, ExecutionAborted, ExecutionTimedOut
from scones.workflow.asl.query_language import QueryLanguage

__all__ = ["Cancelled", "ExecutionAborted", "ExecutionTimedOut", "StateMachine"]

if TYPE_CHECKING:
    from scones.workflow.asl.states.base import State


@dataclass
class StateMachine:
    start_at: str
    states: dict[str, State]
    language: QueryLanguage
    timeout_seconds: float | None = None
    _blocking: bool | None = field(default=None, repr=False)

    def run(self, frame: Frame, data: Any, cancel: threading.Event | None = None) -> Any:
        """Run from ``StartAt`` until a terminal state; failures propagate as ``FailureError``."""
        states = self.states
        frame.cancel = cancel
        name: str | None = self.start_at
        execution = frame.execution
        deadline = execution.deadline
        clock_now = execution.clock.now
        stop = execution.stop
        while name is not None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if stop is not None and stop.is_set():
                raise ExecutionAborted()
            if deadline is not None and clock_now() > deadline:
                raise ExecutionTimedOut()
            outcome = states[name].run(frame, data)
            data = outcome.output
            name = outcome.next
        return data

    def may_block(self) -> bool:
        """Whether any state inside can wait (Task, Wait, or nested ones), so threads pay off."""
        if self._blocking is None:
            self._blocking = any(s.may_block() for s in self.states.values())
        return self._blocking
