"""Ctrl-C and SIGTERM during a synchronous run: the execution ends ABORTED and is kept, the process goes on.

Without this, the signal would raise inside whatever the execution is doing (a
function's socket read), and the execution would end FAILED with a half-written
story. Here the execution runs on a worker thread while the main thread waits;
the first signal stops it (``ExecutionService.stop``: ABORTED at once, history
kept up to that point); a second one interrupts for real.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

from scones.executions.service import ExecutionService
from scones.workflow.asl.executor import Execution

INTERRUPTED: Final = "Interrupted"
_CAUSES: Final = {signal.SIGINT: "The execution was stopped from the command line (Ctrl-C)",
                  signal.SIGTERM: "The execution was stopped by SIGTERM"}


def run_until_done(service: ExecutionService, state_machine: str, input: Any, *, name: str | None) -> Execution:
    """``service.run``, stoppable by SIGINT/SIGTERM when called on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return service.run(state_machine, input, name=name)
    run = service.start(state_machine, input, name=name)

    def stop(signum: int) -> None:
        service.stop(run.record.name, error=INTERRUPTED, cause=_CAUSES.get(signal.Signals(signum), "Stopped"))

    with stop_on_signals(stop):
        run.done.wait()
    return run.record


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[int], None]) -> Iterator[None]:
    """While inside, the first SIGINT or SIGTERM calls ``stop(signum)``; the next one interrupts as usual."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stopped = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stopped.is_set():
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)
        stopped.set()
        stop(signum)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
