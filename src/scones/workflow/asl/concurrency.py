"""Running Parallel branches and Map iterations: on threads when they can block, in order otherwise.

Lambda invocations are I/O bound, so iterations that contain Task (or Wait)
states run on real threads, at most ``max_concurrency`` at a time. Pure data
states gain nothing from threads under the GIL, so they run in order. The first
failure cancels the siblings (they stop at their next transition) and is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any, Final

from scones.workflow.asl.errors import Cancelled

#: Inline Map runs at most 40 iterations at once on AWS; unlimited MaxConcurrency (0) uses that.
DEFAULT_MAX_THREADS: Final = 40

Job = Callable[[threading.Event], Any]


def run_jobs(jobs: Sequence[Job], *, threaded: bool, max_concurrency: int = 0) -> list[Any]:
    """Results in job order; raises the first failure after the other jobs have stopped."""
    cancel = threading.Event()
    if not threaded or len(jobs) <= 1:
        return [job(cancel) for job in jobs]
    workers = min(len(jobs), max_concurrency if max_concurrency > 0 else DEFAULT_MAX_THREADS)
    results: list[Any] = [None] * len(jobs)
    first_error: list[BaseException] = []
    lock = threading.Lock()

    def runner(i: int) -> None:
        if cancel.is_set():
            return
        try:
            results[i] = jobs[i](cancel)
        except Cancelled:
            return
        except BaseException as exc:
            with lock:
                if not first_error:
                    first_error.append(exc)
            cancel.set()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asl") as pool:
        futures: list[Future[None]] = [pool.submit(runner, i) for i in range(len(jobs))]
        wait(futures, return_when=FIRST_EXCEPTION)
    if first_error:
        raise first_error[0]
    return results
