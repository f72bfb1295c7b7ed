"""``Succeed``: ends the execution (or branch/iteration) successfully."""

from __future__ import annotations

from typing import Any, ClassVar

from scones.workflow.asl.checks import COMMON, JSONPATH_IO, FieldTable
from scones.workflow.asl.context import Frame
from scones.workflow.asl.history import EventType
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State


class SucceedState(State):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO,
        QueryLanguage.JSONATA: COMMON | {"Output"},
    }
    has_transition = False
    entered_event = EventType.SUCCEED_STATE_ENTERED
    exited_event = EventType.SUCCEED_STATE_EXITED

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        effective = self.flow.effective_input(frame, raw)
        return Outcome(self.flow.output(frame, raw, effective), None)
