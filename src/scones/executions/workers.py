"""Threads for executions: each one starts at once, on an idle thread when there is one.

An execution may wait for an hour (a Wait state, a slow function), so executions never
queue behind each other as in a fixed pool: when every thread is busy a new one is
started. Starting a thread costs more than running a short execution (measured:
~180 us of CPU for a thread's start and end against ~160 us for a 3-state Pass
machine), so finished threads wait for the next execution for a while before they end.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Final

LOG = logging.getLogger(__name__)

#: How long a thread with nothing to run waits for the next execution before it ends.
IDLE_SECONDS: Final = 30.0

Job = tuple[Callable[..., Any], tuple[Any, ...]]


class ElasticThreads:
    """``submit(fn, *args)`` runs ``fn`` now on a thread of its own (reused, or started for it)."""

    def __init__(self, name: str, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.name = name
        self.idle_seconds = idle_seconds
        self._idle: list[_Worker] = []  # a stack: the most recently idle thread (warmest) goes first
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self, f"{self.name}-{next(self._numbers)}")
        worker.jobs.put((fn, args))

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def _rest(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def _retire(self, worker: _Worker) -> bool:
        """True when the worker may end: nobody has just taken it for a job."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
            return False


class _Worker:
    def __init__(self, pool: ElasticThreads, name: str) -> None:
        self.pool = pool
        self.jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                fn, args = self.jobs.get(timeout=self.pool.idle_seconds)
            except queue.Empty:
                if self.pool._retire(self):
                    return
                fn, args = self.jobs.get()  # taken for a job at the very moment it timed out: it is coming
            try:
                fn(*args)
            except BaseException:  # the job reports its own failures; a worker must not die of one
                LOG.exception("a job on %s failed", threading.current_thread().name)
            del fn, args  # nothing of the finished job stays reachable while the thread waits
            self.pool._rest(self)
