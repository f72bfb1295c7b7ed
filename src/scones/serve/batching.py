"""Dynamic micro-batching: concurrent requests share one model run.

Requests put their pixels on an asyncio queue and await a future. One task
takes the first waiting request, then gathers more until the batch holds
``max_batch_size`` images or ``max_wait`` has passed since the first (it waits
only while ``more_coming`` says another request is on its way, so a lone request
is not delayed), runs the
model on a worker thread (never on the event loop), and
hands each request its rows. While one batch runs, the next one fills up, so
under load the batch size grows by itself and the wait costs nothing. With
``parallel`` > 1, that many batches run at once on worker threads (one ORT session
is safe to run concurrently): on a small machine, single-threaded runs side by
side beat one run spread over all cores, whose threads wait for each other
whenever the HTTP side takes a core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._carry: _Job | None = None
        self.parallel = parallel
        self._executor = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="scones-predict")
        self._slots = asyncio.Semaphore(parallel)
        self._running: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scones-batcher")

    async def submit(self, pixels: np.ndarray, timeout: float | None = None) -> np.ndarray:
        """Probabilities for ``pixels`` (``[n, H, W, 3]``), computed in a shared batch.

        ``timeout`` raises ``TimeoutError`` if no answer came in time; it is a timer on the
        request's future rather than ``asyncio.wait_for``, which (Python 3.11) wraps every
        request in a task of its own.
        """
        if self._closed or self._task is None:
            raise BatcherClosed("the model is not accepting work")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._queue.put_nowait(_Job(pixels, future))
        if timeout is None:
            return await future
        timer = loop.call_later(timeout, _expire, future)
        try:
            return await future
        finally:
            timer.cancel()

    async def stop(self) -> None:
        """Finish everything already submitted, then stop the worker."""
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def _next(self, timeout: float | None) -> _Job | None:
        if self._carry is not None:
            job, self._carry = self._carry, None
            return job
        if timeout is None:
            return await self._queue.get()
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if timeout <= 0:
                raise TimeoutError from None
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            await self._slots.acquire()  # gather the next batch only once a model run can take it
            first = await self._next(None)
            if first is None:
                self._slots.release()
                break
            jobs, total = [first], first.size
            deadline = loop.time() + self.max_wait
            while total < self.max_batch_size:
                wait = deadline - loop.time()
                if self._more_coming is not None and not self._more_coming():
                    wait = 0.0  # take what is queued now; nobody else is about to submit
                try:
                    job = await self._next(wait)
                except TimeoutError:
                    break
                if job is None:
                    stopping = True  # run what we hold, then stop
                    break
                if total + job.size > self.max_batch_size:
                    self._carry = job
                    break
                jobs.append(job)
                total += job.size
            self._dispatch(loop, jobs)
        if self._carry is not None:  # pragma: no cover - a carried job always precedes the stop marker
            await self._slots.acquire()
            self._dispatch(loop, [self._carry])
        if self._running:
            await asyncio.gather(*self._running)

    def _dispatch(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        """Run ``jobs`` as one batch without waiting for it: up to ``parallel`` batches run at once."""
        task = loop.create_task(self._execute(loop, jobs))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        try:
            await self._run_batch(loop, jobs)
        finally:
            self._slots.release()

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        import numpy as np

        live = [j for j in jobs if not j.future.done()]  # a caller that timed out no longer waits
        if not live:
            return
        batch = live[0].pixels if len(live) == 1 else np.concatenate([j.pixels for j in live])
        try:
            probs = await loop.run_in_executor(self._executor, self._predict, batch)
        except Exception as exc:
            LOG.exception("model run failed for a batch of %d images", batch.shape[0])
            for job in live:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        if self._on_batch is not None:
            self._on_batch(int(batch.shape[0]))
        start = 0
        for job in live:
            if not job.future.done():
                job.future.set_result(probs[start:start + job.size])
            start += job.size
