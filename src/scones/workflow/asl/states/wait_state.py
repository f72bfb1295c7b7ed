"""``Wait``: delays for ``Seconds``/``SecondsPath`` or until ``Timestamp``/``TimestampPath``, via the clock."""

from __future__ import annotations

from typing import Any, Final

from scones.workflow.asl.context import Frame
from scones.workflow.asl.dataflow import QueryLanguage, jsonata_bindings
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsonata_eval import JsonataExpression, is_expression, strip_delimiters
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import JsonPath, PathNotFound, resolve
from scones.workflow.asl.states.base import Outcome, State
from scones.workflow.asl.timestamps import parse_timestamp
from scones.workflow.asl.variables import UndefinedVariable

MAX_WAIT_SECONDS: Final = 99_999_999


class WaitState(State):
    entered_event = EventType.WAIT_STATE_ENTERED
    exited_event = EventType.WAIT_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.seconds = props.get("Seconds")
        self.timestamp = props.get("Timestamp")
        self.seconds_path = JsonPath(props["SecondsPath"]) if "SecondsPath" in props else None
        self.timestamp_path = JsonPath(props["TimestampPath"]) if "TimestampPath" in props else None

    def _select(self, frame: Frame, path: JsonPath, data: Any) -> Any:
        try:
            return resolve(path, frame.scope(data))
        except PathNotFound as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{path.text}' : No results for path: "
                                  f"{exc.normalized}") from exc
        except UndefinedVariable as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} The variable '{exc.name}' is not defined") from exc

    def _jsonata(self, frame: Frame, raw: Any, value: Any, field: str) -> Any:
        if not is_expression(value):
            return value
        return JsonataExpression(strip_delimiters(value), field).evaluate(jsonata_bindings(frame, raw),
                                                                          frame.error_prefix())

    def _delay(self, frame: Frame, raw: Any, effective: Any) -> float:
        now = frame.execution.clock.now()
        jsonata = self.language is QueryLanguage.JSONATA
        if self.seconds is not None:
            seconds = self._jsonata(frame, raw, self.seconds, "Seconds") if jsonata else self.seconds
            if jsonata and (not isinstance(seconds, int) or isinstance(seconds, bool)
                            or not 0 <= seconds <= MAX_WAIT_SECONDS):
                raise FailureError.of(
                    StatesError.QUERY_EVALUATION_ERROR,
                    f"{frame.error_prefix()} The Seconds field must be an integer between 0 and "
                    f"{MAX_WAIT_SECONDS}, but was '{to_compact_json(seconds)}'")
            return float(seconds)
        if self.seconds_path is not None:
            seconds = self._select(frame, self.seconds_path, effective)
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) \
                    or not 0 <= seconds <= MAX_WAIT_SECONDS \
                    or (isinstance(seconds, float) and not seconds.is_integer()):
                raise FailureError.of(
                    StatesError.RUNTIME,
                    f"{frame.error_prefix()} The SecondsPath parameter does not reference a valid integer "
                    f"value: {self.seconds_path.text} == {to_compact_json(seconds)}")
            return float(seconds)
        if self.timestamp is not None:
            text = self._jsonata(frame, raw, self.timestamp, "Timestamp") if jsonata else self.timestamp
            when = parse_timestamp(text)
            if when is None:
                raise FailureError.of(
                    StatesError.QUERY_EVALUATION_ERROR if jsonata else StatesError.RUNTIME,
                    f"{frame.error_prefix()} The Timestamp field cannot be parsed as an ISO-8601 extended offset "
                    f"date-time format string: {text}")
            return when.timestamp() - now
        assert self.timestamp_path is not None
        text = self._select(frame, self.timestamp_path, effective)
        when = parse_timestamp(text)
        if when is None:
            shown = text if isinstance(text, str) else to_compact_json(text)
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The TimestampPath parameter does not reference a valid ISO-8601 "
                f"extended offset date-time format string: {self.timestamp_path.text} == {shown}")
        return when.timestamp() - now

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        effective = self.flow.effective_input(frame, raw)
        delay = self._delay(frame, raw, effective)
        if delay > 0:
            frame.execution.pause(delay, frame.cancel)
        assigned = self.flow.assignments(frame, raw, effective)
        return Outcome(self.flow.output(frame, raw, effective), self.next, assigned)

    def may_block(self) -> bool:
        return True
