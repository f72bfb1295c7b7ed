"""A local AWS Lambda: a registry of functions invoked by name or ARN, with Lambda's invoke semantics.

The States Language interpreter calls ``invoke`` through its ``LambdaInvoker``
protocol. What a caller sees is what AWS's Invoke API returns: status 200 with
``FunctionError: "Unhandled"`` and the runtime's error object when the handler
raises, a ``Task timed out after N seconds`` error when it overruns its
timeout, ``Lambda.ResourceNotFoundException`` for an unknown function and
``Lambda.TooManyRequestsException`` (HTTP 429 on AWS) when a function already
runs as many invocations as its concurrency limit allows. The definitions'
``Retry`` on ``Lambda.TooManyRequestsException`` then backs off, as on AWS.

Two modes:

- in-process (default): each function has one warm *container*: its handler
  module, run once (a fresh module object, not the ``sys.modules`` copy), so
  module-level state such as classifyImage's boto3 client is built once and
  reused, as in a warm Lambda execution environment. Concurrent invocations
  share that container (AWS would start one environment per concurrent
  request). Each invocation runs on a pooled handler thread so the timeout can
  be enforced. After a timeout the container is marked dead and the next
  invocation gets a fresh one (a cold start), as AWS does; the overrunning
  thread is sent an asynchronous ``ContainerStopped`` exception. Python cannot
  kill a thread: the exception takes effect at the handler's next Python
  bytecode, so a handler blocked in a C call (a socket read, ``time.sleep``)
  runs on until that call returns, and a handler that catches
  ``BaseException`` can ignore it. Its result is discarded either way. The
  functions' environments are merged into ``os.environ`` while the runtime is
  open, so they must not disagree.
- isolated: each function runs from its own deployment zip in a clean
  interpreter that sees only the zip, boto3 and the standard library — a
  handler that imports anything else fails here with
  ``Runtime.ImportModuleError``, before any deploy. Workers stay warm between
  invocations, like Lambda execution environments; a timed-out worker is killed
  and the next invocation starts a new one.

Concurrency: ``max_concurrency`` (or a function's own ``reserved_concurrency``)
caps the invocations of one function in flight at once, like reserved
concurrency on AWS; an invocation beyond it is throttled, not queued. In-process
functions are unlimited by default; isolated ones default to
``DEFAULT_ISOLATED_CONCURRENCY`` because every concurrent invocation needs its
own worker interpreter (~40 MB).
"""

from __future__ import annotations

import heapq
import importlib.util
import itertools
import json
import logging
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from scones.errors import WorkflowError
from scones.workflow import lambda_bootstrap as boot
from scones.workflow.asl.lambda_integration import LambdaInvokeResult, LambdaServiceError, parse_function_name

LOG = logging.getLogger(__name__)

DEFAULT_REGION: Final = "us-east-1"
DEFAULT_ACCOUNT: Final = "000000000000"
#: What the python3.12 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES: Final = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi")
LATEST: Final = "$LATEST"
DEFAULT_ISOLATED_CONCURRENCY: Final = 8

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionConfig:
    """One registered function. ``handler`` is ``module.attr`` (or, in-process only, a callable)."""

    name: str
    handler: str | Handler
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 3.0
    memory_mb: int = 128  # recorded and passed to the context; not enforced locally
    package: bytes | None = None  # the deployment zip, required in isolated mode
    #: At most this many invocations in flight (AWS's reserved concurrency); ``None``: the runtime's limit.
    reserved_concurrency: int | None = None


class ContainerStopped(BaseException):
    """Raised asynchronously in a handler thread whose invocation timed out (its container is dead).

    A ``BaseException`` so that handlers' ``except Exception`` does not swallow it.
    """


class _IsolatedWorker:
    """One warm, clean interpreter running a single function's zip."""

    def __init__(self, config: FunctionConfig, task_dir: Path, layer_dir: Path, region: str) -> None:
        self.config = config
        bootstrap = Path(boot.__file__).resolve()
        # A clean interpreter: -I ignores PYTHON* variables and user site, -S drops site-packages.
        paths = [str(task_dir), str(layer_dir)]
        code = ("import sys, runpy; sys.path[:0] = " + json.dumps(paths)
                + "; runpy.run_path(" + json.dumps(str(bootstrap)) + ", run_name='__main__')")
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": LATEST,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "LAMBDA_TASK_ROOT": str(task_dir),
            "_HANDLER": str(config.handler),
            **dict(config.environment),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", code], cwd=task_dir, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1,
        )
        self.replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump_replies, daemon=True, name=f"lambda-{config.name}-out").start()
        threading.Thread(target=self._pump_logs, daemon=True, name=f"lambda-{config.name}-log").start()
        self.ready = False

    def _pump_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def _pump_logs(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            LOG.debug("[%s] %s", self.config.name, line.rstrip())

    def _next_reply(self, deadline: float) -> dict[str, Any] | None | bool:
        """The worker's next message; ``None`` when it died, ``False`` when the deadline passed first."""
        try:
            line = self.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        return None if line is None else json.loads(line)  # type: ignore[no-any-return]

    def invoke(self, event_text: str, request_id: str, arn: str) -> tuple[str, bool, str]:
        """``(payload, failed, outcome)`` with outcome ``ok``, ``timeout`` or ``exited``."""
        timeout = self.config.timeout_seconds
        # The init phase (imports) gets its own allowance, like Lambda's 10 s init window.
        if not self.ready:
            if not self._next_reply(time.monotonic() + 10.0 + timeout):
                return self._exited(request_id)
            self.ready = True
        assert self.process.stdin is not None
        request = {"request_id": request_id, "event": event_text, "timeout_ms": int(timeout * 1000), "arn": arn}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._exited(request_id)
        reply = self._next_reply(time.monotonic() + timeout)
        if reply is False:
            self.kill()
            return json.dumps(boot.timeout_error(request_id, timeout)), True, "timeout"
        if not isinstance(reply, dict):
            return self._exited(request_id)
        return str(reply["payload"]), bool(reply["error"]), "ok"

    def _exited(self, request_id: str) -> tuple[str, bool, str]:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            code = -9
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
        return json.dumps(boot.runtime_error("Runtime.ExitError", message)), True, "exited"

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class _Job:
    """One in-process invocation handed to a handler thread; the lock orders finishing against timing out."""

    __slots__ = ("call", "reply", "lock", "thread_id", "abandoned", "stopped", "done")

    def __init__(self, call: Callable[[], tuple[str, bool]]) -> None:
        self.call = call
        self.reply: queue.SimpleQueue[tuple[str, bool]] = queue.SimpleQueue()
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
                self.stopped = _raise_in_thread(self.thread_id, ContainerStopped)
        return True


def _raise_in_thread(thread_id: int, exc_type: type[BaseException] | None) -> bool:
    """Ask the interpreter to raise ``exc_type`` in another thread at its next bytecode (``None``: cancel that)."""
    import ctypes

    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    exc = None if exc_type is None else ctypes.py_object(exc_type)
    return bool(set_async_exc(ctypes.c_ulong(thread_id), exc) == 1)


class _InlineCall:
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
                self.stopped = _raise_in_thread(self.thread_id, ContainerStopped)

    def finish(self) -> bool:
        """Mark the handler returned; ``True`` if it had overrun its deadline (a pending stop is withdrawn)."""
        with self.lock:
            self.finished = True
            if self.expired and self.stopped:
                _raise_in_thread(self.thread_id, None)
            return self.expired


class _Watchdog:
    """One thread holding the deadlines of inline invocations; it stops the ones that overrun.

    Registering costs a heap push; the thread wakes only when the earliest
    deadline comes (finished invocations are dropped lazily), so a fast
    invocation never causes a thread switch.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _InlineCall]] = []
        self._order = itertools.count()
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, call: _InlineCall, deadline: float) -> None:
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


class _HandlerThreads:
    """Reusable daemon threads for in-process invocations.

    Starting a thread costs more than a whole Scones invocation, so threads are
    handed jobs through a queue and reused. A thread that was sent
    ``ContainerStopped`` after a timeout leaves the pool when its job ends (it may
    still have the exception pending). Daemon threads never hold up exit.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: list[queue.SimpleQueue[_Job]] = []
        self._lock = threading.Lock()
        self._count = 0

    def submit(self, job: _Job) -> None:
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

    def _serve(self, inbox: queue.SimpleQueue[_Job]) -> None:
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


class _Container:
    """The warm in-process environment of one function: its handler, initialised once."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler


class LocalLambdaRuntime:
    """Functions by name, invoked with AWS Lambda's semantics. Use it as a context manager."""

    def __init__(self, functions: Iterable[FunctionConfig], *, isolated: bool = False,
                 region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT,
                 max_concurrency: int | None = None, strict_timeouts: bool = False) -> None:
        self.functions = {f.name: f for f in functions}
        self.isolated = isolated
        self.strict_timeouts = strict_timeouts
        self._watchdog = _Watchdog("lambda-watchdog")
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
        self.region = region
        self.account_id = account_id
        self._lock = threading.Lock()
        self._closed = False
        self._saved_env: dict[str, str | None] | None = None
        self._workdir: Path | None = None
        self._idle: dict[str, list[_IsolatedWorker]] = {name: [] for name in self.functions}
        self._busy: set[_IsolatedWorker] = set()
        self._containers: dict[str, _Container] = {}
        self._threads = _HandlerThreads("lambda")
        if isolated:
            for f in self.functions.values():
                if f.package is None or not isinstance(f.handler, str):
                    raise WorkflowError(f"Function {f.name} has no deployment zip to run in isolated mode",
                                        hint="give FunctionConfig.package (see scones.aws.package)")
        else:
            self._check_environments()

    # -- registry --------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def config(self, function_name: str) -> FunctionConfig:
        ref = parse_function_name(function_name)
        return self._resolve(ref.name, ref.qualifier or LATEST)

    def _resolve(self, name: str, qualifier: str) -> FunctionConfig:
        config = self.functions.get(name)
        if config is None or qualifier != LATEST:
            what = self.arn(name) + ("" if qualifier == LATEST else f":{qualifier}")
            raise LambdaServiceError("Lambda.ResourceNotFoundException",
                                     f"Function not found: {what} (Service: Lambda, Status Code: 404)")
        return config

    def _check_environments(self) -> None:
        merged: dict[str, tuple[str, str]] = {}
        for f in self.functions.values():
            for key, value in f.environment.items():
                if key in merged and merged[key][1] != value:
                    raise WorkflowError(
                        f"Functions {merged[key][0]} and {f.name} set {key} to different values, which "
                        "in-process functions cannot do (they share one environment)",
                        hint="run the functions isolated (--isolated) or give them the same value")
                merged[key] = (f.name, value)

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
        if self.isolated:
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="scones-lambda-"))
                self._prepare_isolated(self._workdir)
        elif self._saved_env is None:
            saved: dict[str, str | None] = {}
            for f in self.functions.values():
                for key, value in f.environment.items():
                    saved.setdefault(key, os.environ.get(key))
                    os.environ[key] = value
            self._saved_env = saved

    def close(self) -> None:
        self._watchdog.close()
        with self._lock:
            self._closed = True
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
            self._idle = {name: [] for name in self.functions}
            self._busy.clear()
            saved, self._saved_env = self._saved_env, None
            workdir, self._workdir = self._workdir, None
        for worker in workers:
            worker.kill()
        if saved:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def _prepare_isolated(self, workdir: Path) -> None:
        layer = workdir / "runtime"
        layer.mkdir()
        for package in RUNTIME_PACKAGES:
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                continue
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (layer / source.name).symlink_to(source)
        for f in self.functions.values():
            assert f.package is not None
            task = workdir / "task" / f.name
            task.mkdir(parents=True)
            _safe_unzip(f.package, task)

    # -- invoke ------------------------------------------------------------
    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult:
        ref = parse_function_name(function_name, qualifier)
        config = self._resolve(ref.name, ref.qualifier or LATEST)
        try:
            event_text = json.dumps(payload)
        except (TypeError, ValueError) as exc:
            raise LambdaServiceError("Lambda.InvalidRequestContentException",
                                     f"Could not parse request body into json: {exc}") from exc
        size = boot.payload_size(event_text)
        if size > boot.MAX_PAYLOAD_BYTES:
            raise LambdaServiceError("Lambda.RequestTooLargeException",
                                     f"Request must be smaller than {boot.MAX_PAYLOAD_BYTES} bytes for the "
                                     f"InvokeFunction operation (got {size})")
        with self._lock:
            self._open_locked()
            self._admit(config.name)
        request_id = self._request_id()
        started = time.perf_counter()
        try:
            if self.isolated:
                text, failed = self._invoke_isolated(config, event_text, request_id)
            else:
                text, failed = self._invoke_in_process(config, event_text, request_id)
        finally:
            with self._lock:
                self._in_flight[config.name] -= 1
        LOG.debug("REPORT RequestId: %s Function: %s Duration: %.2f ms%s", request_id, config.name,
                  (time.perf_counter() - started) * 1000, " (error)" if failed else "")
        return LambdaInvokeResult(payload=json.loads(text), function_error="Unhandled" if failed else None,
                                  status_code=200, executed_version=LATEST, request_id=request_id)

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _admit(self, name: str) -> None:
        """Count one more invocation in flight, or throttle it as Lambda does at the concurrency limit."""
        limit = self._limits[name]
        if limit is not None and self._in_flight[name] >= limit:
            self.throttled += 1
            raise LambdaServiceError(
                "Lambda.TooManyRequestsException",
                f"Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; "
                f"Request ID: {self._request_id()}) — {name} already runs {limit} invocation(s), its concurrency limit")
        self._in_flight[name] += 1

    def in_flight(self, function_name: str) -> int:
        """Invocations of the function running now (for tests and diagnostics)."""
        with self._lock:
            return self._in_flight[parse_function_name(function_name).name]

    def _container(self, config: FunctionConfig) -> _Container:
        """The function's warm container; a new one (cold start: the handler module runs again) if none is alive."""
        with self._lock:
            container = self._containers.get(config.name)
            if container is None:
                handler = config.handler if callable(config.handler) else boot.load_handler(config.handler, fresh=True)
                container = _Container(handler)
                self._containers[config.name] = container
            return container

    def _invoke_in_process(self, config: FunctionConfig, event_text: str, request_id: str) -> tuple[str, bool]:
        try:
            container = self._container(config)
        except ImportError as exc:
            return json.dumps(boot.runtime_error("Runtime.ImportModuleError", str(exc))), True
        except AttributeError as exc:
            return json.dumps(boot.runtime_error("Runtime.HandlerNotFound", str(exc))), True
        context = boot.LambdaContext(function_name=config.name, invoked_function_arn=self.arn(config.name),
                                     memory_limit_in_mb=config.memory_mb, aws_request_id=request_id,
                                     timeout_ms=int(config.timeout_seconds * 1000))
        handler = container.handler

        def call() -> tuple[str, bool]:
            try:
                return boot.call_handler(handler, event_text, context)
            except ContainerStopped:
                raise
            except BaseException as exc:  # SystemExit & co. end a Lambda sandbox; report it as AWS does
                message = f"RequestId: {request_id} Error: Runtime exited with error: {type(exc).__name__}({exc})"
                self._discard_container(config.name, container)
                return json.dumps(boot.runtime_error("Runtime.ExitError", message)), True

        if self.strict_timeouts:
            result, stopped = self._on_handler_thread(call, config.timeout_seconds)
        else:
            result, stopped = self._inline(call, config.timeout_seconds)
        if result is not None:
            return result
        self._discard_container(config.name, container)
        LOG.warning("%s timed out after %.2f s; its container is discarded (the next invocation starts a new one)%s",
                    config.name, config.timeout_seconds, "" if stopped else "; its handler could not be stopped")
        return json.dumps(boot.timeout_error(request_id, config.timeout_seconds)), True

    def _inline(self, call: Callable[[], tuple[str, bool]],
                timeout: float) -> tuple[tuple[str, bool] | None, bool]:
        """Run on this thread (no thread switch); ``(None, stopped)`` when the watchdog stopped an overrun.

        A handler blocked in a C call is stopped only when that call returns:
        its timeout error comes late (strict_timeouts or isolated mode answer on time).
        """
        watched = _InlineCall()
        try:
            self._watchdog.watch(watched, time.monotonic() + timeout)
            result = call()
            if watched.finish():
                return None, True
            return result, False
        except ContainerStopped:
            watched.finish()
            return None, True

    def _on_handler_thread(self, call: Callable[[], tuple[str, bool]],
                           timeout: float) -> tuple[tuple[str, bool] | None, bool]:
        """Run on a pooled thread and wait at most ``timeout``: the timeout error is on time whatever the handler does."""
        job = _Job(call)
        self._threads.submit(job)
        try:
            return job.reply.get(timeout=timeout), False
        except queue.Empty:
            pass
        if not job.abandon():  # finished in the instant after the deadline
            return job.reply.get(), False
        return None, job.stopped

    def _discard_container(self, name: str, container: _Container) -> None:
        with self._lock:
            if self._containers.get(name) is container:
                del self._containers[name]

    def _invoke_isolated(self, config: FunctionConfig, event_text: str, request_id: str) -> tuple[str, bool]:
        with self._lock:
            idle = self._idle[config.name]
            worker = idle.pop() if idle else None
            workdir = self._workdir
        if worker is None:
            assert workdir is not None
            worker = _IsolatedWorker(config, workdir / "task" / config.name, workdir / "runtime", self.region)
        with self._lock:
            self._busy.add(worker)
        text, failed, outcome = worker.invoke(event_text, request_id, self.arn(config.name))
        with self._lock:
            self._busy.discard(worker)
            keep = outcome == "ok" and not self._closed
            if keep:
                self._idle[config.name].append(worker)
        if not keep:
            worker.kill()
        return text, failed

    def workers(self) -> Iterator[tuple[str, int]]:
        """``(function, pid)`` of the warm isolated workers (for tests and diagnostics)."""
        with self._lock:
            for name, ws in self._idle.items():
                for w in ws:
                    yield name, w.process.pid


def _safe_unzip(data: bytes, dest: Path) -> None:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.infolist():
            target = (dest / member.filename).resolve()
            if os.path.commonpath([dest.resolve(), target]) != str(dest.resolve()):
                raise WorkflowError(f"Deployment zip member {member.filename!r} would land outside its folder")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(member))


def scones_functions(*, store_root: str | os.PathLike[str], endpoint_url: str = "",
                     endpoint_name: str = "scones-endpoint", threshold: float | None = None,
                     region: str = DEFAULT_REGION, packaged: bool = False) -> list[FunctionConfig]:
    """The three Scones functions wired to the local store and a local endpoint.

    ``packaged`` attaches each function's deployment zip (needed for isolated mode).
    The credentials are placeholders: the local endpoint checks none, but boto3
    refuses to sign a request without some, as Lambda's own runtime provides.
    """
    from scones.errors import UsageError
    from scones.functions.catalog import SCONES_FUNCTIONS

    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise UsageError(f"The threshold must be in (0, 1], got {threshold:g}",
                         hint="filterInferences keeps an image when its top probability is at least the threshold")
    aws = {"AWS_ACCESS_KEY_ID": "scones-local", "AWS_SECRET_ACCESS_KEY": "scones-local",
           "AWS_DEFAULT_REGION": region}
    environments: dict[str, dict[str, str]] = {
        "serializeImageData": {"SCONES_LOCAL_STORE_ROOT": str(Path(store_root).resolve())},
        "classifyImage": {**aws, "ENDPOINT_NAME": endpoint_name},
        "filterInferences": {} if threshold is None else {"THRESHOLD": repr(float(threshold))},
    }
    if endpoint_url:
        environments["classifyImage"]["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = endpoint_url
    configs = []
    for info in SCONES_FUNCTIONS:
        package = None
        if packaged:
            from scones.aws.package import build_function_zip

            package = build_function_zip(info.name)
        configs.append(FunctionConfig(name=info.name, handler=info.handler, environment=environments[info.name],
                                      timeout_seconds=float(info.timeout_seconds), memory_mb=info.memory_mb,
                                      package=package))
    return configs
