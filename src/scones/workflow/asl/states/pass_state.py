"""``Pass``: "passes its input to its output, performing no work" — optionally injecting ``Result``."""

from __future__ import annotations

from typing import Any, ClassVar

from scones.workflow.asl.checks import COMMON, FLOW, JSONPATH_IO, FieldTable
from scones.workflow.asl.context import Frame
from scones.workflow.asl.fields import ABSENT
from scones.workflow.asl.history import EventType
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State


class PassState(State):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | FLOW | {"ResultPath", "Parameters", "Result", "Assign"},
        QueryLanguage.JSONATA: COMMON | FLOW | {"Output", "Assign"},
    }
    entered_event = EventType.PASS_STATE_ENTERED
    exited_event = EventType.PASS_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.result = props.get("Result", ABSENT)
        # JSONPath: without Result or Parameters, the input is the result (and ResultPath places it).
        # A JSONata Pass state has no result: its Output and Assign see $states.input only.
        self.input_is_result = language is QueryLanguage.JSONPATH

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        flow = self.flow
        effective = flow.effective_input(frame, raw)
        if flow.has_parameters():
            result = flow.parameters_value(frame, effective, raw)
        elif self.result is not ABSENT:
            result = self.result
        elif self.input_is_result:
            result = effective
        else:
            result = ABSENT
        assigned = flow.assignments(frame, raw, effective, result)
        return Outcome(flow.output(frame, raw, effective, result), self.next, assigned)
