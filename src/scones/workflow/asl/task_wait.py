"""A Task waiting for something outside the interpreter: a callback with its token, or a child execution.

The wait ends when the awaited event is set, and otherwise as the Task's other
limits say, whichever comes first: its ``TimeoutSeconds`` (``States.Timeout``), its
``HeartbeatSeconds`` since the last heartbeat (``States.Timeout``, which
``States.HeartbeatTimeout`` also matches), the execution's ``TimeoutSeconds``, a
StopExecution, or a failed sibling branch or iteration.

Time: with the real clock the wait polls its limits every 50 ms. With any other
clock (``FakeClock`` in tests) time moves only when something sleeps, so the wait
gives the awaited event ``FAKE_CLOCK_GRACE`` seconds of real time and then moves
the clock to the nearest limit; with no limit it waits in real time until the
event comes or the execution is stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from scones.workflow.asl.clock import SystemClock
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import Cancelled, ExecutionAborted, ExecutionTimedOut, FailureError, StatesError

POLL_SECONDS: Final = 0.05
#: Real seconds a wait on a non-real clock gives the awaited event before time jumps to the nearest limit.
FAKE_CLOCK_GRACE: Final = 1.0


@dataclass(frozen=True)
class Heartbeat:
    """``HeartbeatSeconds``, and when the last heartbeat came (read on every poll: heartbeats move it)."""

    seconds: float
    last_beat: Callable[[], float]


def wait_for(frame: Frame, done: threading.Event, *, task_deadline: float | None,
             heartbeat: Heartbeat | None = None) -> None:
    """Return once ``done`` is set; raise when a limit of the Task or of the execution comes first.

    ``task_deadline`` is the clock time the Task's ``TimeoutSeconds`` runs out (None: no limit).
    """
    execution = frame.execution
    clock = execution.clock
    real = isinstance(clock, SystemClock)
    graced = False
    while True:
        if done.is_set():
            return
        if execution.stop is not None and execution.stop.is_set():
            raise ExecutionAborted()
        if frame.cancel is not None and frame.cancel.is_set():
            raise Cancelled()
        now = clock.now()
        limits: list[tuple[float, BaseException]] = []
        if task_deadline is not None:
            limits.append((task_deadline, FailureError.of(StatesError.TIMEOUT, None)))
        if heartbeat is not None:
            limits.append((heartbeat.last_beat() + heartbeat.seconds, FailureError.heartbeat_timeout()))
        if execution.deadline is not None:
            limits.append((execution.deadline, ExecutionTimedOut()))
        nearest = min(limits, key=lambda limit: limit[0]) if limits else None
        if nearest is not None and now >= nearest[0]:
            raise nearest[1]
        if real:
            remaining = POLL_SECONDS if nearest is None else min(POLL_SECONDS, nearest[0] - now)
            done.wait(max(0.0, remaining))
        elif nearest is None or not graced:
            graced = True
            _wait_real(done, FAKE_CLOCK_GRACE if nearest is not None else POLL_SECONDS, execution.stop)
        else:
            clock.sleep(nearest[0] - now)


def _wait_real(done: threading.Event, seconds: float, stop: threading.Event | None) -> None:
    """Wait ``seconds`` of real time for ``done``, in short steps so a stop is noticed."""
    end = time.monotonic() + seconds
    while not done.is_set() and (stop is None or not stop.is_set()):
        remaining = end - time.monotonic()
        if remaining <= 0:
            return
        done.wait(min(remaining, POLL_SECONDS))
