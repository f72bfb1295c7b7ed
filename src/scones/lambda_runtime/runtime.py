"""A local AWS Lambda: a registry of functions invoked by name or ARN, with Lambda's invoke semantics.

The States Language interpreter calls ``invoke`` through its ``LambdaInvoker``
protocol. What a caller sees is what AWS's Invoke API returns: status 200 with
``FunctionError: "Unhandled"`` and the runtime's error object when the handler
raises, a ``Task timed out after N seconds`` error when it overruns its
timeout, ``Lambda.ResourceNotFoundException`` for an unknown function and
``Lambda.TooManyRequestsException`` (HTTP 429 on AWS) when a function already
runs as many invocations as its concurrency limit allows. The definitions'
``Retry`` on ``Lambda.TooManyRequestsException`` then backs off, as on AWS.

Two modes: in-process (default, ``in_process.py``) runs handlers in this
interpreter, one warm container per function; isolated (``isolated.py``) runs
each function from its deployment zip in clean worker interpreters.

Concurrency: ``max_concurrency`` (or a function's own ``reserved_concurrency``)
caps the invocations of one function in flight at once, like reserved
concurrency on AWS; an invocation beyond it is throttled, not queued. In-process
functions are unlimited by default; isolated ones default to
``DEFAULT_ISOLATED_CONCURRENCY`` because every concurrent invocation needs its
own worker interpreter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final, Protocol

from scones.errors import WorkflowError
from scones.lambda_runtime.activity import Activity
from scones.lambda_runtime.contract import (
    LATEST,
    LambdaInvokeResult,
    function_arn,
    function_not_found,
    parse_function_name,
    request_event,
    service_error,
)
from scones.lambda_runtime.function import FunctionConfig, Ran
from scones.lambda_runtime.in_process import InProcessRunner
from scones.lambda_runtime.isolated import IsolatedRunner
from scones.local_account import LOCAL_ACCOUNT, LOCAL_REGION

LOG = logging.getLogger(__name__)

DEFAULT_REGION: Final = LOCAL_REGION
DEFAULT_ACCOUNT: Final = LOCAL_ACCOUNT
DEFAULT_ISOLATED_CONCURRENCY: Final = 8
_UUID4_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET: Final = (0x4000 << 64) | (0x8000 << 48)


class Runner(Protocol):
    """How invocations run: ``InProcessRunner`` or ``IsolatedRunner``."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def invoke(self, config: FunctionConfig, event: Any, request_id: str, arn: str) -> Ran: ...


class LocalLambdaRuntime:
    """Functions by name, invoked with AWS Lambda's semantics. Use it as a context manager."""

    def __init__(self, functions: Iterable[FunctionConfig], *, isolated: bool = False,
                 region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT,
                 max_concurrency: int | None = None, strict_timeouts: bool = False) -> None:
        self.functions = {f.name: f for f in functions}
        self.isolated = isolated
        self.strict_timeouts = strict_timeouts
        self.region = region
        self.account_id = account_id
        # Request ids need to be unique, not secret: a generator seeded once spares a
        # getrandom() system call (a GIL release and re-acquire) per invocation.
        self._ids = random.Random()
        if max_concurrency is None and isolated:
            max_concurrency = DEFAULT_ISOLATED_CONCURRENCY
        for limit in [max_concurrency] + [f.reserved_concurrency for f in self.functions.values()]:
            if limit is not None and limit < 1:
                raise WorkflowError(f"A function concurrency limit must be at least 1, got {limit}")
        self._limits = {f.name: f.reserved_concurrency or max_concurrency for f in self.functions.values()}
        self._in_flight = {name: 0 for name in self.functions}
        self.throttled = 0  # invocations refused with TooManyRequestsException (diagnostics)
        #: Recent invocations, counts and durations of each function (the console reads them).
        self.activity = Activity()
        self._arns = {name: self.arn(name) for name in self.functions}
        self._lock = threading.Lock()
        self._opened = False
        self._closed = False
        self._isolated_runner = IsolatedRunner(self.functions, region=region) if isolated else None
        self._runner: Runner = self._isolated_runner or InProcessRunner(self.functions,
                                                                        strict_timeouts=strict_timeouts)

    # -- registry --------------------------------------------------------
    def arn(self, name: str) -> str:
        return function_arn(name, self.region, self.account_id)

    def config(self, function_name: str) -> FunctionConfig:
        ref = parse_function_name(function_name)
        return self._resolve(ref.name, ref.qualifier or LATEST)

    def _resolve(self, name: str, qualifier: str, request_id: str | None = None) -> FunctionConfig:
        config = self.functions.get(name)
        if config is None or qualifier != LATEST:
            raise function_not_found(self.arn(name) + ("" if qualifier == LATEST else f":{qualifier}"), request_id)
        return config

    # -- life cycle ------------------------------------------------------
    def __enter__(self) -> LocalLambdaRuntime:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        with self._lock:
            self._open_locked()

    def _open_locked(self) -> None:
        if self._closed:
            raise WorkflowError("This Lambda runtime has been closed")
        if not self._opened:
            self._runner.open()
            self._opened = True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._runner.close()

    # -- invoke ------------------------------------------------------------
    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult:
        request_id = self._request_id()
        ref = parse_function_name(function_name, qualifier)
        config = self._resolve(ref.name, ref.qualifier or LATEST, request_id)
        event = request_event(payload, request_id)
        with self._lock:
            self._open_locked()
            self._admit(config.name, request_id)
        wall = time.time()
        started = time.perf_counter()
        try:
            ran = self._runner.invoke(config, event, request_id, self._arns[config.name])
        finally:
            with self._lock:
                self._in_flight[config.name] -= 1
        duration_ms = (time.perf_counter() - started) * 1000
        error_type = _error_type(ran.payload) if ran.failed else None
        self.activity.record(config.name, request_id, wall, duration_ms, error_type, payload, ran.payload, ran.log)
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("REPORT RequestId: %s Function: %s Duration: %.2f ms%s", request_id, config.name,
                      duration_ms, " (error)" if ran.failed else "")
        return LambdaInvokeResult(payload=ran.payload, function_error="Unhandled" if ran.failed else None,
                                  status_code=200, executed_version=LATEST, request_id=request_id, log=ran.log)

    def _request_id(self) -> str:
        # uuid4's text, formatted directly: version 4, RFC 4122 variant.
        h = f"{self._ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _admit(self, name: str, request_id: str) -> None:
        """Count one more invocation in flight, or throttle it as Lambda does at the concurrency limit."""
        limit = self._limits[name]
        if limit is not None and self._in_flight[name] >= limit:
            self.throttled += 1
            raise service_error("TooManyRequestsException", "Rate Exceeded.", 429, request_id,
                                note=f"{name} already runs {limit} invocation(s), its concurrency limit")
        self._in_flight[name] += 1

    def in_flight(self, function_name: str) -> int:
        """Invocations of the function running now (for tests and diagnostics)."""
        with self._lock:
            return self._in_flight[parse_function_name(function_name).name]

    def workers(self) -> Iterator[tuple[str, int]]:
        """``(function, pid)`` of the warm isolated workers (for tests and diagnostics)."""
        if self._isolated_runner is not None:
            yield from self._isolated_runner.workers()



def _error_type(error: Any) -> str:
    """The error's type as the console shows it (a timeout's error object names none)."""
    if isinstance(error, dict):
        kind = error.get("errorType")
        if isinstance(kind, str):
            return kind
        if "timed out" in str(error.get("errorMessage", "")):
            return "Task timed out"
    return "Unhandled"
