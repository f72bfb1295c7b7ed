"""Execution threads: a job never waits for another, and threads are reused instead of started anew."""

from __future__ import annotations

import threading
import time

from scones.executions.workers import ElasticThreads


def test_jobs_run_at_once_on_reused_threads() -> None:
    pool = ElasticThreads("test-workers")
    names: list[str] = []
    done = threading.Event()
    pool.submit(lambda: (names.append(threading.current_thread().name), done.set()))
    assert done.wait(5)
    deadline = time.monotonic() + 5
    while pool.idle != 1:  # the thread rests once its job is over
        assert time.monotonic() < deadline
        time.sleep(0.001)
    done.clear()
    pool.submit(lambda: (names.append(threading.current_thread().name), done.set()))
    assert done.wait(5)
    assert names[0] == names[1]  # the same thread ran both


def test_a_busy_thread_never_delays_a_new_job() -> None:
    pool = ElasticThreads("test-workers")
    release = threading.Event()
    started = [threading.Event() for _ in range(3)]
    for event in started:
        pool.submit(lambda e=event: (e.set(), release.wait(5)))
    assert all(event.wait(5) for event in started)  # three jobs running together
    release.set()


def test_idle_threads_end_and_a_failing_job_does_not_kill_its_thread() -> None:
    pool = ElasticThreads("test-workers", idle_seconds=0.05)
    ran = threading.Event()

    def boom() -> None:
        raise RuntimeError("job bug")

    pool.submit(boom)
    pool.submit(ran.set)
    assert ran.wait(5)
    deadline = time.monotonic() + 5
    while pool.idle:  # resting threads retire after idle_seconds
        assert time.monotonic() < deadline
        time.sleep(0.01)
