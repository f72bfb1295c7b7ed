"""``Pass``: "passes its input to its output, performing no work" — optionally injecting ``Result``."""

from __future__ import annotations

from typing import Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.dataflow import ABSENT, QueryLanguage
from scones.workflow.asl.history import EventType
from scones.workflow.asl.states.base import Outcome, State


class PassState(State):
    entered_event = EventType.PASS_STATE_ENTERED
    exited_event = EventType.PASS_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.result = props.get("Result", ABSENT)

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        flow = self.flow
        effective = flow.effective_input(frame, raw)
        if self.language is QueryLanguage.JSONATA:
            assigned = flow.assignments(frame, raw, effective)
            return Outcome(flow.output(frame, raw, effective), self.next, assigned)
        if flow.has_parameters():
            result = flow.parameters_value(frame, effective, raw)
        elif self.result is not ABSENT:
            result = self.result
        else:
            result = effective
        assigned = flow.assignments(frame, raw, effective, result)
        return Outcome(flow.output(frame, raw, effective, result), self.next, assigned)
