"""What each function has been doing: recent invocations with their logs, counts, errors and durations.

The console's function pages and ``ListFunctions``-side figures read it. Kept in
memory and bounded: the last ``RECENT`` invocations of each function (events and
results larger than ``MAX_KEPT_BYTES`` are replaced by a note), and the last
``DURATIONS`` durations for the percentiles.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

RECENT: Final = 50
DURATIONS: Final = 1000
MAX_KEPT_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation as the console lists it."""

    function: str
    request_id: str
    started: float  # epoch seconds
    duration_ms: float
    error_type: str | None
    event: Any
    result: Any
    log: str

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "requestId": self.request_id, "started": self.started,
                "durationMs": round(self.duration_ms, 3), "errorType": self.error_type, "event": self.event,
                "result": self.result, "log": self.log}


@dataclass
class FunctionActivity:
    """Counters and the recent invocations of one function."""

    invocations: int = 0
    errors: int = 0
    recent: deque[InvocationRecord] = field(default_factory=lambda: deque(maxlen=RECENT))
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=DURATIONS))

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile of the kept durations, in milliseconds."""
        if not self.durations:
            return None
        ordered = sorted(self.durations)
        rank = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 1)) - 1))
        return ordered[rank]

    def summary(self) -> dict[str, Any]:
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        return {"invocations": self.invocations, "errors": self.errors,
                "p50Ms": None if p50 is None else round(p50, 3), "p99Ms": None if p99 is None else round(p99, 3)}


class Activity:
    """Every function's activity; ``record`` is called once per invocation, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, FunctionActivity] = {}

    def record(self, function: str, request_id: str, started: float, duration_ms: float, error_type: str | None,
               event: Any, result: Any, log: str) -> None:
        record = InvocationRecord(function, request_id, started, duration_ms, error_type, _kept(event), _kept(result),
                                  log)
        with self._lock:
            activity = self._functions.get(function)
            if activity is None:  # not setdefault: that would build (and drop) one with two deques per call
                activity = self._functions[function] = FunctionActivity()
            activity.invocations += 1
            activity.errors += error_type is not None
            activity.recent.append(record)
            activity.durations.append(duration_ms)

    def of(self, function: str) -> FunctionActivity:
        with self._lock:
            found = self._functions.get(function)
            if found is None:
                return FunctionActivity()
            copy = FunctionActivity(found.invocations, found.errors, deque(found.recent, maxlen=RECENT),
                                    deque(found.durations, maxlen=DURATIONS))
        return copy


def _kept(value: Any) -> Any:
    """The value itself (callers hand over values nobody changes afterwards) unless it is plainly large.

    A shallow look, not a walk: strings at the top two levels are measured, which is where
    the bulk of real events sits (an image, a body); the count of recent invocations bounds the rest.
    """
    if _shallow_size(value, 2) <= MAX_KEPT_BYTES:
        return value
    return {"_scones_note": f"larger than {MAX_KEPT_BYTES} bytes, not kept"}


def _shallow_size(value: Any, depth: int) -> int:
    if isinstance(value, str):
        return len(value)
    if depth == 0 or not isinstance(value, (dict, list)):
        return 8
    items = value.values() if isinstance(value, dict) else value
    return sum(_shallow_size(item, depth - 1) for item in items) + 8 * len(value)
