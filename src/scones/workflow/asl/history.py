"""Execution history in the shapes and order of GetExecutionHistory.

Recording must be cheap (it happens on every transition): an event is kept as
a small tuple holding references to the Python values; JSON text is produced
only when the history is rendered (for persistence or display). Values are
never mutated in place by the interpreter, so keeping references is safe.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from scones.workflow.asl.clock import iso_timestamp
from scones.workflow.asl.errors import ExecutionAborted, HistoryLimitExceeded
from scones.workflow.asl.jsontext import quote, to_compact_json


class EventType(str, Enum):
    EXECUTION_STARTED = "ExecutionStarted"
    EXECUTION_SUCCEEDED = "ExecutionSucceeded"
    EXECUTION_FAILED = "ExecutionFailed"
    EXECUTION_TIMED_OUT = "ExecutionTimedOut"
    EXECUTION_ABORTED = "ExecutionAborted"
    PASS_STATE_ENTERED = "PassStateEntered"
    PASS_STATE_EXITED = "PassStateExited"
    TASK_STATE_ENTERED = "TaskStateEntered"
    TASK_STATE_EXITED = "TaskStateExited"
    CHOICE_STATE_ENTERED = "ChoiceStateEntered"
    CHOICE_STATE_EXITED = "ChoiceStateExited"
    WAIT_STATE_ENTERED = "WaitStateEntered"
    WAIT_STATE_EXITED = "WaitStateExited"
    SUCCEED_STATE_ENTERED = "SucceedStateEntered"
    SUCCEED_STATE_EXITED = "SucceedStateExited"
    FAIL_STATE_ENTERED = "FailStateEntered"
    PARALLEL_STATE_ENTERED = "ParallelStateEntered"
    PARALLEL_STATE_EXITED = "ParallelStateExited"
    PARALLEL_STATE_STARTED = "ParallelStateStarted"
    PARALLEL_STATE_SUCCEEDED = "ParallelStateSucceeded"
    PARALLEL_STATE_FAILED = "ParallelStateFailed"
    MAP_STATE_ENTERED = "MapStateEntered"
    MAP_STATE_EXITED = "MapStateExited"
    MAP_STATE_STARTED = "MapStateStarted"
    MAP_STATE_SUCCEEDED = "MapStateSucceeded"
    MAP_STATE_FAILED = "MapStateFailed"
    MAP_ITERATION_STARTED = "MapIterationStarted"
    MAP_ITERATION_SUCCEEDED = "MapIterationSucceeded"
    MAP_ITERATION_FAILED = "MapIterationFailed"
    MAP_RUN_STARTED = "MapRunStarted"
    MAP_RUN_SUCCEEDED = "MapRunSucceeded"
    MAP_RUN_FAILED = "MapRunFailed"
    MAP_RUN_ABORTED = "MapRunAborted"
    TASK_SCHEDULED = "TaskScheduled"
    TASK_STARTED = "TaskStarted"
    TASK_SUBMITTED = "TaskSubmitted"
    TASK_SUCCEEDED = "TaskSucceeded"
    TASK_FAILED = "TaskFailed"
    TASK_TIMED_OUT = "TaskTimedOut"
    LAMBDA_FUNCTION_SCHEDULED = "LambdaFunctionScheduled"
    LAMBDA_FUNCTION_STARTED = "LambdaFunctionStarted"
    LAMBDA_FUNCTION_SUCCEEDED = "LambdaFunctionSucceeded"
    LAMBDA_FUNCTION_FAILED = "LambdaFunctionFailed"
    LAMBDA_FUNCTION_TIMED_OUT = "LambdaFunctionTimedOut"
    EVALUATION_FAILED = "EvaluationFailed"


#: "A hard quota of 25,000 entries in the execution event history" (Standard workflows; developer
#: guide, "Avoid reaching the history quota"): event 25,000 must close the execution.
MAX_HISTORY_EVENTS: Final = 25_000

#: The events that end an execution: always recorded, so a full history still says how it ended.
_CLOSING: Final = frozenset({EventType.EXECUTION_SUCCEEDED, EventType.EXECUTION_FAILED,
                             EventType.EXECUTION_TIMED_OUT, EventType.EXECUTION_ABORTED})

#: Which ``...EventDetails`` key each event type's details go under.
_DETAILS_KEY: Final[dict[EventType, str]] = {
    EventType.EXECUTION_STARTED: "executionStartedEventDetails",
    EventType.EXECUTION_SUCCEEDED: "executionSucceededEventDetails",
    EventType.EXECUTION_FAILED: "executionFailedEventDetails",
    EventType.EXECUTION_TIMED_OUT: "executionTimedOutEventDetails",
    EventType.EXECUTION_ABORTED: "executionAbortedEventDetails",
    EventType.MAP_STATE_STARTED: "mapStateStartedEventDetails",
    EventType.MAP_ITERATION_STARTED: "mapIterationStartedEventDetails",
    EventType.MAP_ITERATION_SUCCEEDED: "mapIterationSucceededEventDetails",
    EventType.MAP_ITERATION_FAILED: "mapIterationFailedEventDetails",
    EventType.MAP_RUN_STARTED: "mapRunStartedEventDetails",
    EventType.MAP_RUN_FAILED: "mapRunFailedEventDetails",
    EventType.TASK_SCHEDULED: "taskScheduledEventDetails",
    EventType.TASK_STARTED: "taskStartedEventDetails",
    EventType.TASK_SUBMITTED: "taskSubmittedEventDetails",
    EventType.TASK_SUCCEEDED: "taskSucceededEventDetails",
    EventType.TASK_FAILED: "taskFailedEventDetails",
    EventType.TASK_TIMED_OUT: "taskTimedOutEventDetails",
    EventType.LAMBDA_FUNCTION_SCHEDULED: "lambdaFunctionScheduledEventDetails",
    EventType.LAMBDA_FUNCTION_SUCCEEDED: "lambdaFunctionSucceededEventDetails",
    EventType.LAMBDA_FUNCTION_FAILED: "lambdaFunctionFailedEventDetails",
    EventType.LAMBDA_FUNCTION_TIMED_OUT: "lambdaFunctionTimedOutEventDetails",
    EventType.EVALUATION_FAILED: "evaluationFailedEventDetails",
}

#: Detail fields that hold JSON *text* in AWS's shape (we keep the value until rendering).
_JSON_TEXT_FIELDS: Final = frozenset({"input", "output", "parameters"})
_NO_VALUE: Final = object()


def _details_key(t: EventType) -> str | None:
    if t in _DETAILS_KEY:
        return _DETAILS_KEY[t]
    if t.value.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if t.value.endswith("StateExited"):
        return "stateExitedEventDetails"
    return None


#: Precomputed per type: rendering runs once per event, so lookups must be cheap.
_RENDER: Final[dict[EventType, tuple[str, str | None]]] = {t: (t.value, _details_key(t)) for t in EventType}


@dataclass(frozen=True)
class HistoryEvent:
    id: int
    previous_event_id: int
    timestamp: float
    type: EventType
    details: dict[str, Any] | None

    def to_aws(self, memo: dict[int, str] | None = None) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it (timestamps as ISO text)."""
        type_name, key = _RENDER[self.type]
        event: dict[str, Any] = {
            "timestamp": iso_timestamp(self.timestamp),
            "type": type_name,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            if key is not None:
                event[key] = render_details(self.details, memo)
        return event


def render_details(details: dict[str, Any], memo: dict[int, str] | None = None) -> dict[str, Any]:
    """Details with values as JSON text; ``memo`` reuses the text of a value seen before
    (a state's output is the next state's input: the same object)."""
    out: dict[str, Any] = {}
    for k, v in details.items():
        if k in _JSON_TEXT_FIELDS:
            if memo is None or not isinstance(v, (dict, list)):
                out[k] = to_compact_json(v)
            else:
                text = memo.get(id(v))
                if text is None:
                    text = memo[id(v)] = to_compact_json(v)
                out[k] = text
            out[k + "Details"] = {"truncated": False}
        elif k == "assignedVariables":
            out[k] = {name: to_compact_json(value) for name, value in v.items()}
            out["assignedVariablesDetails"] = {"truncated": False}
        else:
            out[k] = v
    return out


class History:
    """Append-only event list shared by all threads of one execution."""

    def __init__(self, clock_now: Any, max_events: int | None = MAX_HISTORY_EVENTS) -> None:
        self._now = clock_now
        # One slot stays free for the closing event: a full history is exactly ``max_events`` long.
        self._open_limit = None if max_events is None else max_events - 1
        self._limit_lock = threading.Lock()
        self._events: list[tuple[int, int, float, EventType, dict[str, Any] | None]] = []
        # next() on itertools.count and list.append are atomic under the GIL: without a quota no lock is
        # needed; with one, check-and-append takes ``_limit_lock`` (uncontended: no thread waits for it).
        self._ids = itertools.count(1)
        # JSON text the interpreter already produced for a recorded value (the payload quota check
        # encodes every state output), by id(): rendering reuses it instead of encoding again.
        self._texts: dict[int, str] = {}
        self._sealed = False

    def seal(self) -> None:
        """No event after the closing one: a thread still working for an execution that was stopped
        meanwhile is told so (``ExecutionAborted``) at its next event instead of recording it."""
        self._sealed = True

    def add(self, event_type: EventType, details: dict[str, Any] | None, previous: int) -> int:
        """Record an event; returns its id (ids start at 1, in recording order).

        Raises ``HistoryLimitExceeded`` instead of recording an event past the quota (the
        closing event of the execution is always recorded).
        """
        if self._sealed:
            raise ExecutionAborted()
        limit = self._open_limit
        if limit is None:
            event_id = next(self._ids)
            self._events.append((event_id, previous, self._now(), event_type, details))
            return event_id
        with self._limit_lock:  # check-and-append must be atomic across Map/Parallel threads
            if len(self._events) >= limit and event_type not in _CLOSING:
                raise HistoryLimitExceeded(limit + 1)
            event_id = next(self._ids)
            self._events.append((event_id, previous, self._now(), event_type, details))
            return event_id

    def remember_text(self, value: Any, text: str) -> None:
        """``text`` is ``value``'s JSON; only for a value held by a recorded event (so its id stays unique)."""
        if isinstance(value, (dict, list)):
            self._texts[id(value)] = text

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[HistoryEvent]:
        # Threads may append slightly out of id order; the history is read in id order.
        for event_id, prev, ts, typ, details in sorted(self._events, key=lambda e: e[0]):
            yield HistoryEvent(event_id, prev, ts, typ, details)

    def to_aws(self) -> list[dict[str, Any]]:
        """All events in GetExecutionHistory's shape."""
        # The memo is keyed by id(): safe because the recorded values stay alive in self._events meanwhile.
        memo: dict[int, str] = dict(self._texts)
        out = []
        for event_id, prev, ts, typ, details in sorted(self._events, key=lambda e: e[0]):
            type_name, key = _RENDER[typ]
            event: dict[str, Any] = {"timestamp": iso_timestamp(ts), "type": type_name, "id": event_id,
                                     "previousEventId": prev}
            if details is not None and key is not None:
                event[key] = render_details(details, memo)
            out.append(event)
        return out

    def to_json_text(self) -> str:
        """``json.dumps(self.to_aws(), ensure_ascii=False, separators=(",", ":"))``, built directly.

        Persisting an execution is dominated by rendering its history: writing
        the text in one pass skips building a dict per event and then encoding
        every embedded JSON text a second time.
        """
        texts = self._texts
        quoted: dict[int, str] = {}  # id(value) -> its JSON text as a JSON string literal

        def text_of(value: Any) -> str:
            if not isinstance(value, (dict, list)):
                return quote(to_compact_json(value))
            key = id(value)
            found = quoted.get(key)
            if found is None:
                text = texts.get(key)
                found = quoted[key] = quote(text if text is not None else to_compact_json(value))
            return found

        parts = []
        for event_id, prev, ts, typ, details in sorted(self._events, key=lambda e: e[0]):
            type_name, key = _RENDER[typ]
            head = (f'{{"timestamp":"{iso_timestamp(ts)}","type":"{type_name}","id":{event_id},'
                    f'"previousEventId":{prev}')
            if details is None or key is None:
                parts.append(head + "}")
                continue
            fields = []
            for k, v in details.items():
                if k in _JSON_TEXT_FIELDS:
                    fields.append(f'"{k}":{text_of(v)},"{k}Details":{{"truncated":false}}')
                elif k == "assignedVariables":
                    assigned = ",".join(f"{quote(name)}:{quote(to_compact_json(value))}"
                                        for name, value in v.items())
                    fields.append(f'"assignedVariables":{{{assigned}}},'
                                  '"assignedVariablesDetails":{"truncated":false}')
                elif type(v) is str:  # names, errors, causes: the common plain fields
                    fields.append(f"{quote(k)}:{quote(v)}")
                elif type(v) is int:
                    fields.append(f"{quote(k)}:{v}")
                else:
                    fields.append(f"{quote(k)}:{to_compact_json(v)}")
            parts.append(f'{head},"{key}":{{{",".join(fields)}}}}}')
        return "[" + ",".join(parts) + "]"
