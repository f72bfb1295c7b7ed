"""The one clock every wait, retry delay and timestamp goes through, so tests run in milliseconds."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final, Protocol

_POLL_SECONDS: Final = 0.05


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Block this thread of the execution for ``seconds``."""


class SystemClock:
    """Real time: waits really wait."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, seconds: float, interrupt: threading.Event) -> bool:
        """Sleep up to ``seconds``; True as soon as ``interrupt`` is set (StopExecution during a Wait)."""
        return interrupt.wait(seconds) if seconds > 0 else interrupt.is_set()

    def wait_any(self, seconds: float, interrupts: tuple[threading.Event, ...]) -> bool:
        """``wait`` on several events: polls every 50 ms, as threading has no wait-for-any."""
        end = time.monotonic() + seconds
        first, rest = interrupts[0], interrupts[1:]
        while True:
            if any(e.is_set() for e in rest):
                return True
            remaining = end - time.monotonic()
            if remaining <= 0:
                return first.is_set()
            if first.wait(min(remaining, _POLL_SECONDS)):
                return True


class FakeClock:
    """Time that moves only when something sleeps: a 1-hour Wait returns at once.

    Thread-safe, so concurrent Map iterations can share it; every sleep is
    recorded in ``sleeps`` for assertions.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if seconds > 0:
                self._now += seconds

    def wait(self, seconds: float, interrupt: threading.Event) -> bool:
        """Like ``sleep``, but skipped when ``interrupt`` is already set; True when it is set afterwards."""
        if interrupt.is_set():
            return True
        self.sleep(seconds)
        return interrupt.is_set()


def interruptible_sleep(clock: Clock, seconds: float, *interrupts: threading.Event | None) -> bool:
    """Sleep on ``clock``; True when one of ``interrupts`` was set (the sleep may have been cut short).

    Clocks without a ``wait`` method (a test's own clock) sleep fully, then the events are checked.
    """
    events = tuple(e for e in interrupts if e is not None)
    if not events:
        clock.sleep(seconds)
        return False
    if len(events) > 1 and hasattr(clock, "wait_any"):
        return bool(clock.wait_any(seconds, events))
    wait = getattr(clock, "wait", None)
    if len(events) == 1 and wait is not None:
        return bool(wait(seconds, events[0]))
    if any(e.is_set() for e in events):
        return True
    clock.sleep(seconds)
    return any(e.is_set() for e in events)


def iso_timestamp(epoch: float) -> str:
    """``2024-01-02T03:04:05.678Z``: how the context object writes times."""
    return _iso_millis(int(epoch * 1000))


@lru_cache(maxsize=64)
def _iso_millis(millis: int) -> str:
    # Cached: many states enter within the same millisecond, and formatting costs more than a transition.
    dt = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"
