"""``Choice``: the first matching rule picks ``Next``; else ``Default``; else ``States.NoChoiceMatched``."""

from __future__ import annotations

from typing import Any, ClassVar

from scones.workflow.asl.checks import COMMON, JSONPATH_IO, SCHEMA, Checker, FieldTable, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State
from scones.workflow.asl.states.choice_rules import Rule, build_rule, validate_rule


class ChoiceBranch:
    """A top-level Choice Rule: its test, where it leads, and what it assigns/outputs."""

    def __init__(self, props: dict[str, Any], language: QueryLanguage) -> None:
        self.rule: Rule = build_rule(props)
        self.next: str = props["Next"]
        self.assign = optional_field(props, language, "Assign")
        self.output = optional_field(props, language, "Output")


class ChoiceState(State):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | {"Choices", "Default", "Assign"},
        QueryLanguage.JSONATA: COMMON | {"Choices", "Default", "Output", "Assign"},
    }
    has_transition = False
    entered_event = EventType.CHOICE_STATE_ENTERED
    exited_event = EventType.CHOICE_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.branches = [ChoiceBranch(c, language) for c in props.get("Choices", [])]
        self.default: str | None = props.get("Default")

    @classmethod
    def _validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                  language: QueryLanguage) -> None:
        choices = props.get("Choices")
        if not isinstance(choices, list) or not choices:
            checker.add(SCHEMA, "Choices must be a non-empty array", *where,
                        *(("Choices",) if "Choices" in props else ()))
        else:
            for i, rule in enumerate(choices):
                validate_rule(checker, rule, (*where, "Choices", i), language, top=True, states=states)
        if "Default" in props:
            checker.target(props["Default"], states, (*where, "Default"))

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        flow = self.flow
        effective = flow.effective_input(frame, raw)
        for branch in self.branches:
            if branch.rule.test(frame, effective, raw):
                assigned = flow.assignments(frame, raw, effective, assign=branch.assign) if branch.assign else None
                if branch.output is not None:
                    output = branch.output.eval(frame, effective, raw)
                else:
                    output = flow.output(frame, raw, effective)
                return Outcome(output, branch.next, assigned)
        if self.default is None:
            raise FailureError.of(StatesError.NO_CHOICE_MATCHED,
                                  f"{frame.error_prefix()} No Choice Rule matched and no Default is specified")
        assigned = flow.assignments(frame, raw, effective)
        return Outcome(flow.output(frame, raw, effective), self.default, assigned)
