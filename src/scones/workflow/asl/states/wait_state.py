"""``Wait``: delays for ``Seconds``/``SecondsPath`` or until ``Timestamp``/``TimestampPath``, via the clock."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from scones.workflow.asl.checks import (
    COMMON,
    FLOW,
    JSONPATH_IO,
    SCHEMA,
    Checker,
    FieldTable,
    Where,
    expression_allowed,
    is_int,
    number_problem,
)
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State
from scones.workflow.asl.timestamps import parse_timestamp
from scones.workflow.asl.variables import UndefinedVariable

#: "You must specify time as an integer value from 0 to 99999999" (Wait state docs).
MAX_WAIT_SECONDS: Final = 99_999_999
_DELAY_FIELDS: Final = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")


def _shown(value: Any) -> str:
    """How a cause shows a selected value: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else to_compact_json(value)


class WaitState(State):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath",
                                                               "Assign"},
        QueryLanguage.JSONATA: COMMON | FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    }
    entered_event = EventType.WAIT_STATE_ENTERED
    exited_event = EventType.WAIT_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        delay = optional_field(props, language, *_DELAY_FIELDS)
        assert delay is not None  # exactly one is present (validated)
        self.delay = delay

    @classmethod
    def _validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                  language: QueryLanguage) -> None:
        if sum(k in props for k in _DELAY_FIELDS) != 1:
            checker.add(SCHEMA, "Exactly one of Seconds, SecondsPath, Timestamp or TimestampPath is required", *where)
        if "Seconds" in props and not expression_allowed(props["Seconds"], language):
            if not is_int(props["Seconds"]) or not 0 <= props["Seconds"] <= MAX_WAIT_SECONDS:
                checker.add(SCHEMA, number_problem(props["Seconds"], f"Seconds must be an integer from 0 to "
                                                                     f"{MAX_WAIT_SECONDS}"), *where, "Seconds")
        for key in ("SecondsPath", "TimestampPath"):
            if key in props:
                checker.path(props[key], (*where, key), reference=True, nullable=False)
        if "Timestamp" in props and not expression_allowed(props["Timestamp"], language):
            if parse_timestamp(props["Timestamp"]) is None:
                # AWS's words, also for a {% %} string in a JSONPath state (recorded by LocalStack).
                checker.add(SCHEMA, "String does not match RFC3339 timestamp", *where, "Timestamp")

    def _until(self, frame: Frame, raw: Any, effective: Any) -> float:
        """Seconds to wait from now."""
        now = frame.execution.clock.now()
        field = self.delay
        try:
            value = field.eval(frame, effective, raw)
        except PathNotFound as exc:
            if field.name in ("SecondsPath", "TimestampPath"):
                # AWS: "The SecondsPath parameter does not reference an input value: $.path" (recorded by
                # LocalStack); TimestampPath is worded the same way (docs/aws-facts.md, Wait).
                raise self._runtime(frame, f"The {field.name} parameter does not reference an input value: "
                                           f"{field.source}") from exc
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{field.source}' : No results for path: "
                                  f"{exc.normalized}") from exc
        except UndefinedVariable as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} The variable '{exc.name}' is not defined") from exc
        if field.name == "Seconds":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_WAIT_SECONDS:
                raise FailureError.of(
                    self.language.evaluation_error,
                    f"{frame.error_prefix()} The Seconds field must be an integer between 0 and "
                    f"{MAX_WAIT_SECONDS}, but was '{to_compact_json(value)}'")
            return float(value)
        if field.name == "SecondsPath":
            return float(self._seconds_path(frame, field.source, value))
        when = parse_timestamp(value)
        if when is None:
            if field.name == "Timestamp":
                raise FailureError.of(
                    self.language.evaluation_error,
                    f"{frame.error_prefix()} The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                    f"date-time format string: {value}")
            raise self._runtime(frame, f"The TimestampPath parameter does not reference a valid ISO-8601 extended "
                                       f"offset date-time format string: {field.source} == {_shown(value)}")
        return when.timestamp() - now

    @classmethod
    def _seconds_path(cls, frame: Frame, path: str, value: Any) -> int:
        """What SecondsPath selected, as AWS checks it: a whole number (a JSON integer; 1.5 and "1" are not),
        not negative (docs/aws-facts.md, Wait)."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise cls._runtime(frame, f"The SecondsPath parameter cannot be parsed as a long value: "
                                      f"{path} == {_shown(value)}")
        if value < 0:
            raise cls._runtime(frame, f"The SecondsPath parameter references a negative value: {path} == {value}")
        if value > MAX_WAIT_SECONDS:  # scones' own refusal (AWS's wording for it is not recorded)
            raise cls._runtime(frame, f"The SecondsPath parameter does not reference a valid integer value: "
                                      f"{path} == {value} (at most {MAX_WAIT_SECONDS})")
        return value

    @staticmethod
    def _runtime(frame: Frame, message: str) -> FailureError:
        return FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} {message}")

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        effective = self.flow.effective_input(frame, raw)
        delay = self._until(frame, raw, effective)
        if delay > 0:
            frame.execution.pause(delay, frame.cancel)
        assigned = self.flow.assignments(frame, raw, effective)
        return Outcome(self.flow.output(frame, raw, effective), self.next, assigned)

    def may_block(self) -> bool:
        return True
