"""Running handlers in this interpreter, each function in one warm container.

A container is the handler's module, run once (a fresh module object, not the
``sys.modules`` copy), so module-level state such as classifyImage's boto3
client is built once and reused, as in a warm Lambda execution environment.
Concurrent invocations share that container (AWS would start one environment
per concurrent request). After a timeout or an exit the container is dropped
and the next invocation gets a fresh one (a cold start), as AWS does. The
functions' environments are merged into ``os.environ`` while the runner is
open, so they must not disagree.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from scones.errors import WorkflowError
from scones.lambda_runtime import logs
from scones.lambda_runtime.contract import (
    Handler,
    HandlerInitError,
    LambdaContext,
    Outcome,
    call_handler,
    exit_error,
    exit_status,
    load_handler,
    timeout_error,
)
from scones.lambda_runtime.function import FunctionConfig, Ran
from scones.lambda_runtime.timeouts import ContainerStopped, HandlerThreads, InlineCall, Job, Watchdog

LOG = logging.getLogger(__name__)


class Container:
    """The warm in-process environment of one function: its handler, initialised once."""

    __slots__ = ("handler",)

    def __init__(self, handler: Handler) -> None:
        self.handler = handler


def check_environments(functions: Iterable[FunctionConfig]) -> None:
    """Refuse functions that set one variable to different values: in-process they share one environment."""
    merged: dict[str, tuple[str, str]] = {}
    for f in functions:
        for key, value in f.environment.items():
            if key in merged and merged[key][1] != value:
                raise WorkflowError(
                    f"Functions {merged[key][0]} and {f.name} set {key} to different values, which "
                    "in-process functions cannot do (they share one environment)",
                    hint="run the functions isolated (--isolated) or give them the same value")
            merged[key] = (f.name, value)


class InProcessRunner:
    """Invokes handlers on the caller's thread (or a pooled handler thread with ``strict_timeouts``)."""

    def __init__(self, functions: Mapping[str, FunctionConfig], *, strict_timeouts: bool = False) -> None:
        check_environments(functions.values())
        self.functions = functions
        self.strict_timeouts = strict_timeouts
        self._lock = threading.Lock()
        self._containers: dict[str, Container] = {}
        self._watchdog = Watchdog("lambda-watchdog")
        self._threads = HandlerThreads("lambda")
        self._saved_env: dict[str, str | None] | None = None

    def open(self) -> None:
        with self._lock:
            if self._saved_env is not None:
                return
            logs.route_output()
            saved: dict[str, str | None] = {}
            for f in self.functions.values():
                for key, value in f.environment.items():
                    saved.setdefault(key, os.environ.get(key))
                    os.environ[key] = value
            self._saved_env = saved

    def close(self) -> None:
        self._watchdog.close()
        with self._lock:
            saved, self._saved_env = self._saved_env, None
        if saved is not None:
            logs.unroute_output()
        for key, old in (saved or {}).items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old

    def invoke(self, config: FunctionConfig, event: Any, request_id: str, arn: str) -> Ran:
        log = logs.start(request_id)
        started = time.perf_counter()
        result = self._run(config, event, request_id, arn, log)
        if result[1]:
            log.write(logs.error_lines(result[0]))
        logs.end(log, (time.perf_counter() - started) * 1000, config.memory_mb)
        return Ran(result[0], result[1], log.text())

    def _run(self, config: FunctionConfig, event: Any, request_id: str, arn: str,
             log: logs.InvocationLog) -> Outcome:
        container = self._containers.get(config.name)  # warm: one dict read, no lock and no capture
        if container is None:
            try:
                with logs.capturing(log):  # an import-time print belongs to the first invocation's log
                    container = self._container(config)
            except HandlerInitError as exc:
                return exc.error_object(), True
        deadline = time.monotonic() + config.timeout_seconds
        context = LambdaContext(function_name=config.name, invoked_function_arn=arn,
                                memory_limit_in_mb=config.memory_mb, aws_request_id=request_id, deadline=deadline)
        if self.strict_timeouts:
            result, stopped = self._on_handler_thread(
                functools.partial(self._call, config.name, container, event, context, log), config.timeout_seconds)
        else:
            result, stopped = self._inline(config.name, container, event, context, deadline, log)
        if result is not None:
            return result
        self._discard(config.name, container)
        LOG.warning("%s timed out after %.2f s; its container is discarded (the next invocation starts a new one)%s",
                    config.name, config.timeout_seconds, "" if stopped else "; its handler could not be stopped")
        log.write(logs.timed_out_line(request_id, config.timeout_seconds))
        return timeout_error(request_id, config.timeout_seconds), True  # no [ERROR] line: the service ends it

    def _container(self, config: FunctionConfig) -> Container:
        """The function's warm container; a new one (cold start: the handler module runs again) if none is alive."""
        with self._lock:
            container = self._containers.get(config.name)
            if container is None:
                handler = config.handler if callable(config.handler) else load_handler(config.handler, fresh=True)
                container = Container(handler)
                self._containers[config.name] = container
            return container

    def _discard(self, name: str, container: Container) -> None:
        with self._lock:
            if self._containers.get(name) is container:
                del self._containers[name]

    def _call(self, name: str, container: Container, event: Any, context: LambdaContext,
              log: logs.InvocationLog) -> Outcome:
        try:
            with logs.capturing(log):
                return call_handler(container.handler, event, context)
        except ContainerStopped:
            raise
        except BaseException as exc:  # SystemExit & co. end a Lambda sandbox; report it as AWS does
            self._discard(name, container)
            return exit_error(context.aws_request_id, exit_status(exc)), True

    def _inline(self, name: str, container: Container, event: Any, context: LambdaContext,
                deadline: float, log: logs.InvocationLog) -> tuple[Outcome | None, bool]:
        """Run on this thread (no thread switch); ``(None, stopped)`` when the watchdog stopped an overrun.

        A handler blocked in a C call is stopped only when that call returns:
        its timeout error comes late (strict_timeouts or isolated mode answer on time).
        """
        watched = InlineCall()
        try:
            self._watchdog.watch(watched, deadline)
            result = self._call(name, container, event, context, log)
            if watched.finish():
                return None, True
            return result, False
        except ContainerStopped:
            watched.finish()
            return None, True

    def _on_handler_thread(self, call: Callable[[], Outcome], timeout: float) -> tuple[Outcome | None, bool]:
        """Run on a pooled thread and wait at most ``timeout``: the timeout error is on time, whatever the handler
        does."""
        job = Job(call)
        self._threads.submit(job)
        try:
            return job.reply.get(timeout=timeout), False
        except queue.Empty:
            pass
        if not job.abandon():  # finished in the instant after the deadline
            return job.reply.get(), False
        return None, job.stopped
