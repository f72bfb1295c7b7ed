"""Dynamic micro-batching: concurrent requests share one model run.

Requests put their pixels on a queue and await a future. ``parallel`` model
threads each take the first waiting request, gather more until the batch holds
``max_batch_size`` images or ``max_wait`` has passed since they took the first
(they wait only while ``more_coming`` says another request is on its way, so a
lone request is not delayed), run the model and hand the rows back to the event
loop. The threads gather their next batch themselves, straight after the last
one: handing every batch through the event loop cost a loop round trip and two
thread wake-ups between runs, during which the core sat idle (docs/performance.md,
Endpoint). While one batch runs, the next fills up, so under load the batch size
grows by itself and the wait costs nothing. On a small machine single-threaded
runs side by side beat one run spread over all cores, whose threads wait for
each other whenever the HTTP side takes a core.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

PredictFn = Callable[["np.ndarray"], "np.ndarray"]
BatchObserver = Callable[[int], None]


@dataclass
class _Job:
    pixels: np.ndarray
    future: asyncio.Future[np.ndarray] = field(repr=False)

    @property
    def size(self) -> int:
        return int(self.pixels.shape[0])


def _expire(future: asyncio.Future[np.ndarray]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class BatcherClosed(RuntimeError):
    """The batcher is shutting down and takes no new work."""


class MicroBatcher:
    def __init__(self, predict: PredictFn, *, max_batch_size: int = 16, max_wait: float = 0.002,
                 on_batch: BatchObserver | None = None, more_coming: Callable[[], bool] | None = None,
                 parallel: int = 1) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self._predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max(0.0, max_wait)
        self._on_batch = on_batch
        self._more_coming = more_coming
        self.parallel = parallel
        self._pending: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._threads = [threading.Thread(target=self._work, name=f"scones-predict-{n}", daemon=True)
                         for n in range(self.parallel)]
        for thread in self._threads:
            thread.start()

    async def submit(self, pixels: np.ndarray, timeout: float | None = None) -> np.ndarray:
        """Probabilities for ``pixels`` (``[n, H, W, 3]``), computed in a shared batch.

        ``timeout`` raises ``TimeoutError`` if no answer came in time; it is a timer on the
        request's future rather than ``asyncio.wait_for``, which (Python 3.11) wraps every
        request in a task of its own.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        with self._ready:
            if self._closed or self._loop is None:
                raise BatcherClosed("the model is not accepting work")
            self._pending.append(_Job(pixels, future))
            self._ready.notify()
        if timeout is None:
            return await future
        timer = loop.call_later(timeout, _expire, future)
        try:
            return await future
        finally:
            timer.cancel()

    async def stop(self) -> None:
        """Finish everything already submitted, then stop the model threads."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        threads, self._threads = self._threads, []
        if threads:
            await asyncio.to_thread(_join_all, threads)
        # The threads handed their last results to the loop before they ended; those callbacks
        # were queued before the join's, so they have run by now.

    # -- the model threads ---------------------------------------------------------
    def _work(self) -> None:
        while (jobs := self._gather()) is not None:
            self._run(jobs)

    def _gather(self) -> list[_Job] | None:
        """The next batch (the oldest request first), or None once closed and empty."""
        with self._ready:
            while not self._pending:
                if self._closed:
                    return None
                self._ready.wait()
            first = self._pending.popleft()
            jobs, total = [first], first.size
            deadline = time.monotonic() + self.max_wait
            while total < self.max_batch_size:
                if self._pending:
                    if total + self._pending[0].size > self.max_batch_size:
                        break  # it leads the next batch
                    job = self._pending.popleft()
                    jobs.append(job)
                    total += job.size
                    continue
                if self._closed or (self._more_coming is not None and not self._more_coming()):
                    break  # take what is queued now; nobody else is about to submit
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._ready.wait(remaining)
            return jobs

    def _run(self, jobs: list[_Job]) -> None:
        import numpy as np

        # A caller that timed out no longer waits. (Reading a future's state from this thread is
        # racy but harmless: at worst a batch computes rows that nobody collects.)
        live = [j for j in jobs if not j.future.done()]
        if not live:
            return
        size = sum(j.size for j in live)
        probs: np.ndarray | None = None
        error: BaseException | None = None
        try:  # whatever fails here fails this batch's requests, never the thread
            batch = live[0].pixels if len(live) == 1 else np.concatenate([j.pixels for j in live])
            probs = self._predict(batch)
        except Exception as exc:
            LOG.exception("model run failed for a batch of %d images", size)
            error = exc
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._deliver, live, probs, error, size)
        except RuntimeError:  # pragma: no cover - the loop closed under us; nobody is waiting any more
            LOG.warning("event loop closed; dropped the results of a batch of %d images", size)

    def _deliver(self, jobs: list[_Job], probs: np.ndarray | None, error: BaseException | None, size: int) -> None:
        """On the event loop: hand each request its rows (or the batch's error)."""
        if error is not None:
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        assert probs is not None
        if self._on_batch is not None:
            self._on_batch(size)
        start = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(probs[start:start + job.size])
            start += job.size


def _join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()
