"""``Succeed``: ends the execution (or branch/iteration) successfully."""

from __future__ import annotations

from typing import Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.history import EventType
from scones.workflow.asl.states.base import Outcome, State


class SucceedState(State):
    entered_event = EventType.SUCCEED_STATE_ENTERED
    exited_event = EventType.SUCCEED_STATE_EXITED

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        effective = self.flow.effective_input(frame, raw)
        return Outcome(self.flow.output(frame, raw, effective), None)
