"""``Fail``: stops the execution with ``Error``/``Cause`` (or ``ErrorPath``/``CausePath``, or JSONata)."""

from __future__ import annotations

from typing import Any, ClassVar

from scones.workflow.asl.checks import COMMON, SCHEMA, Checker, FieldTable, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import Failure, FailureError, StatesError
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.payload import path_not_found
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State
from scones.workflow.asl.variables import UndefinedVariable


class FailState(State):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
        QueryLanguage.JSONATA: COMMON | {"Error", "Cause"},
    }
    has_transition = False
    entered_event = EventType.FAIL_STATE_ENTERED
    exited_event = None

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.error = optional_field(props, language, "Error", "ErrorPath")
        self.cause = optional_field(props, language, "Cause", "CausePath")

    @classmethod
    def _validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                  language: QueryLanguage) -> None:
        for plain, dynamic in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if plain in props and dynamic in props:
                checker.add(SCHEMA, f"Only one of \"{plain}\" or \"{dynamic}\" can be present", *where)
            if dynamic in props and not checker.path_or_intrinsic(props[dynamic], (*where, dynamic)):
                checker.add(SCHEMA, f"{dynamic} must be a path or an intrinsic function", *where, dynamic)
            if plain in props and not isinstance(props[plain], str):
                checker.add(SCHEMA, f"{plain} must be a string", *where, plain)

    @staticmethod
    def _text(frame: Frame, raw: Any, field: Field | None) -> str | None:
        """Error and Cause are strings ("An error name", "A custom string"). A path (``ErrorPath``) must
        select one; a JSONata expression may also give nothing (null), and anything else fails the state
        as a JSONata type mismatch does elsewhere."""
        if field is None:
            return None
        try:
            value = field.eval(frame, raw, raw)
        except PathNotFound as exc:
            raise path_not_found(frame, field.source, field.name, raw) from exc
        except UndefinedVariable as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} The variable '{exc.name}' is not defined") from exc
        if isinstance(value, str):
            return value
        if field.name.endswith("Path"):
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The {field.name} field must resolve to a string, but was "
                f"'{to_compact_json(value)}'")
        if value is None:
            return None
        raise FailureError.of(StatesError.QUERY_EVALUATION_ERROR,
                              f"{frame.error_prefix()} The {field.name} field must evaluate to a string, but was "
                              f"'{to_compact_json(value)}'")

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        raise FailureError(Failure(self._text(frame, raw, self.error), self._text(frame, raw, self.cause)))
