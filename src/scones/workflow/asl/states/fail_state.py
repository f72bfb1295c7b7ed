"""``Fail``: stops the execution with ``Error``/``Cause`` (or ``ErrorPath``/``CausePath``, or JSONata)."""

from __future__ import annotations

from typing import Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.dataflow import QueryLanguage, jsonata_bindings
from scones.workflow.asl.errors import Failure, FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.intrinsics import parse_intrinsic
from scones.workflow.asl.jsonata_eval import compile_jsonata_template
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import JsonPath, PathNotFound, resolve
from scones.workflow.asl.payload import path_not_found
from scones.workflow.asl.states.base import Outcome, State
from scones.workflow.asl.variables import UndefinedVariable


class FailState(State):
    entered_event = EventType.FAIL_STATE_ENTERED
    exited_event = None

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.error = props.get("Error")
        self.cause = props.get("Cause")
        self.error_path = props.get("ErrorPath")
        self.cause_path = props.get("CausePath")
        jsonata = language is QueryLanguage.JSONATA
        self.error_t = compile_jsonata_template(self.error, "Error") if jsonata and self.error is not None else None
        self.cause_t = compile_jsonata_template(self.cause, "Cause") if jsonata and self.cause is not None else None

    def _dynamic(self, frame: Frame, raw: Any, text: str, field: str) -> Any:
        try:
            if text.startswith("$"):
                value = resolve(JsonPath(text), frame.scope(raw))
            else:
                value = parse_intrinsic(text).eval(frame.scope(raw), frame.execution.intrinsics)
        except PathNotFound as exc:
            raise path_not_found(frame, text, field, raw) from exc
        except UndefinedVariable as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} The variable '{exc.name}' is not defined") from exc
        if not isinstance(value, str):
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The {field} field must resolve to a string, but was "
                f"'{to_compact_json(value)}'")
        return value

    @staticmethod
    def _string(frame: Frame, value: Any, field: str) -> Any:
        """Error and Cause are strings ("An error name", "A custom string"): a JSONata expression that
        yields anything else fails the state, as a JSONata type mismatch does elsewhere."""
        if value is None or isinstance(value, str):
            return value
        raise FailureError.of(StatesError.QUERY_EVALUATION_ERROR,
                              f"{frame.error_prefix()} The {field} field must evaluate to a string, but was "
                              f"'{to_compact_json(value)}'")

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        error, cause = self.error, self.cause
        if self.language is QueryLanguage.JSONATA:
            if self.error_t is not None or self.cause_t is not None:
                bindings = jsonata_bindings(frame, raw)
                if self.error_t is not None:
                    error = self._string(frame, self.error_t.eval(bindings, frame.error_prefix()), "Error")
                if self.cause_t is not None:
                    cause = self._string(frame, self.cause_t.eval(bindings, frame.error_prefix()), "Cause")
        else:
            if self.error_path is not None:
                error = self._dynamic(frame, raw, self.error_path, "ErrorPath")
            if self.cause_path is not None:
                cause = self._dynamic(frame, raw, self.cause_path, "CausePath")
        raise FailureError(Failure(error, cause))

    def transitions(self) -> list[str]:
        return []
