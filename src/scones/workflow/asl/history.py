"""Execution history in the shapes and order of GetExecutionHistory.

Recording must be cheap (it happens on every transition): an event is kept as
a small tuple holding references to the Python values; JSON text is produced
only when the history is rendered (for persistence or display). Values are
never mutated in place by the interpreter, so keeping references is safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from scones.workflow.asl.clock import iso_timestamp
from scones.workflow.asl.jsontext import to_compact_json


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
    TASK_SCHEDULED = "TaskScheduled"
    TASK_STARTED = "TaskStarted"
    TASK_SUCCEEDED = "TaskSucceeded"
    TASK_FAILED = "TaskFailed"
    TASK_TIMED_OUT = "TaskTimedOut"
    LAMBDA_FUNCTION_SCHEDULED = "LambdaFunctionScheduled"
    LAMBDA_FUNCTION_STARTED = "LambdaFunctionStarted"
    LAMBDA_FUNCTION_SUCCEEDED = "LambdaFunctionSucceeded"
    LAMBDA_FUNCTION_FAILED = "LambdaFunctionFailed"
    LAMBDA_FUNCTION_TIMED_OUT = "LambdaFunctionTimedOut"
    EVALUATION_FAILED = "EvaluationFailed"


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
    EventType.TASK_SCHEDULED: "taskScheduledEventDetails",
    EventType.TASK_STARTED: "taskStartedEventDetails",
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


def _state_event(t: EventType) -> str | None:
    name = t.value
    if name.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if name.endswith("StateExited"):
        return "stateExitedEventDetails"
    return None


@dataclass(frozen=True)
class HistoryEvent:
    id: int
    previous_event_id: int
    timestamp: float
    type: EventType
    details: dict[str, Any] | None

    def to_aws(self) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it (timestamps as ISO text)."""
        event: dict[str, Any] = {
            "timestamp": iso_timestamp(self.timestamp),
            "type": self.type.value,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        if self.details is not None:
            key = _DETAILS_KEY.get(self.type) or _state_event(self.type)
            if key is not None:
                event[key] = render_details(self.details)
        return event


def render_details(details: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in details.items():
        if k in _JSON_TEXT_FIELDS:
            out[k] = to_compact_json(v)
            out[k + "Details"] = {"truncated": False}
        elif k == "assignedVariables":
            out[k] = {name: to_compact_json(value) for name, value in v.items()}
            out["assignedVariablesDetails"] = {"truncated": False}
        else:
            out[k] = v
    return out


class History:
    """Append-only event list shared by all threads of one execution."""

    def __init__(self, clock_now: Any) -> None:
        self._now = clock_now
        self._events: list[tuple[int, float, EventType, dict[str, Any] | None]] = []
        self._lock = threading.Lock()

    def add(self, event_type: EventType, details: dict[str, Any] | None, previous: int) -> int:
        """Record an event; returns its id (ids start at 1, in recording order)."""
        ts = self._now()
        with self._lock:
            self._events.append((previous, ts, event_type, details))
            return len(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[HistoryEvent]:
        for i, (prev, ts, typ, details) in enumerate(list(self._events), start=1):
            yield HistoryEvent(i, prev, ts, typ, details)

    def to_aws(self) -> list[dict[str, Any]]:
        return [e.to_aws() for e in self]
