"""Stopping in-process handlers that overrun their timeout.

Python cannot kill a thread: a handler is stopped by an asynchronous
``ContainerStopped`` raised in its thread, which takes effect at its next
Python bytecode. A handler blocked in a C call (a socket read, ``time.sleep``)
runs on until that call returns, and one that catches ``BaseException`` can
ignore it. Two ways to wait for a handler:

- inline (default): the handler runs on the caller's thread and one
  ``Watchdog`` thread holds every inline call's deadline; a fast invocation
  never causes a thread switch, but an overrun blocked in C is reported late;
- on a pooled handler thread (``strict_timeouts``): the caller waits at most
  the timeout and answers on time whatever the handler does.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable

from scones.lambda_runtime.contract import Outcome


class ContainerStopped(BaseException):
    """Raised asynchronously in a handler thread whose invocation timed out (its container is dead).

    A ``BaseException`` so that handlers' ``except Exception`` does not swallow it.
    """


def raise_in_thread(thread_id: int, exc_type: type[BaseException] | None) -> bool:
    """Ask the interpreter to raise ``exc_type`` in another thread at its next bytecode (``None``: cancel that)."""
    exc = None if exc_type is None else ctypes.py_object(exc_type)
    return bool(ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc) == 1)


class InlineCall:
    """An in-process invocation running on its caller's thread, watched for its deadline."""

    __slots__ = ("lock", "thread_id", "finished", "expired", "stopped")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread_id = threading.get_ident()
        self.finished = False
        self.expired = False  # the deadline passed before the handler returned
        self.stopped = False  # ContainerStopped was sent to the caller's thread

    def expire(self) -> None:
        with self.lock:
            if not self.finished:
                self.expired = True
                self.stopped = raise_in_thread(self.thread_id, ContainerStopped)

    def finish(self) -> bool:
        """Mark the handler returned; ``True`` if it had overrun its deadline (a pending stop is withdrawn)."""
        with self.lock:
            self.finished = True
            if self.expired and self.stopped:
                raise_in_thread(self.thread_id, None)
            return self.expired


class Watchdog:
    """One thread holding the deadlines of inline invocations; it stops the ones that overrun.

    Registering costs a heap push; the thread wakes only when the earliest
    deadline comes (finished invocations are dropped lazily), so a fast
    invocation never causes a thread switch.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, InlineCall]] = []
        self._order = itertools.count()
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, call: InlineCall, deadline: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._order), call))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name=self.name)
                self._thread.start()
            elif deadline < self._wake_at:
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].finished or self._heap[0][0] <= now):
                    _, _, call = heapq.heappop(self._heap)
                    if not call.finished:
                        call.expire()
                self._wake_at = self._heap[0][0] if self._heap else float("inf")
                self._cond.wait(None if not self._heap else max(0.0, self._wake_at - now))


class Job:
    """One invocation handed to a handler thread; the lock orders finishing against timing out."""

    __slots__ = ("call", "reply", "lock", "thread_id", "abandoned", "stopped", "done")

    def __init__(self, call: Callable[[], Outcome]) -> None:
        self.call = call
        self.reply: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread_id: int | None = None
        self.abandoned = False  # the caller gave up (timeout): the result is not wanted
        self.stopped = False  # ContainerStopped was sent to the thread running it
        self.done = False

    def run(self) -> None:
        with self.lock:
            if self.abandoned:
                return
            self.thread_id = threading.get_ident()
        result = self.call()
        with self.lock:
            if self.abandoned:
                return
            self.done = True
        self.reply.put(result)

    def abandon(self) -> bool:
        """Give up on the job after its timeout; ``False`` if it finished first (its result is then in ``reply``)."""
        with self.lock:
            if self.done:
                return False
            self.abandoned = True
            if self.thread_id is not None:
                self.stopped = raise_in_thread(self.thread_id, ContainerStopped)
        return True


class HandlerThreads:
    """Reusable daemon threads for in-process invocations.

    Starting a thread costs more than a whole Scones invocation, so threads are
    handed jobs through a queue and reused. A thread that was sent
    ``ContainerStopped`` after a timeout leaves the pool when its job ends (it may
    still have the exception pending). Daemon threads never hold up exit.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: list[queue.SimpleQueue[Job]] = []
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, job: Job) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self._count += 1
                number = self._count
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), daemon=True,
                             name=f"{self.name}-{number}").start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue[Job]) -> None:
        try:
            while True:
                job = inbox.get()
                job.run()
                with self._lock:
                    if job.stopped:
                        return
                    self._idle.append(inbox)
        except ContainerStopped:
            return
