"""A function's log, kept per invocation the way CloudWatch Logs shows it: START, the output, END, REPORT.

Invoke's ``LogType: Tail`` answers the last 4 KB of that text; the console shows
it beside each invocation. Output is told apart by thread: while a thread runs an
invocation, what it prints (``sys.stdout``/``sys.stderr`` are routed by thread)
and what it logs through the root logger (the handler AWS's Python runtime
installs, same line format) goes to that invocation's log; everything else goes
where it always went. Output from threads a handler starts itself is not
attributed to the invocation.

Standard library only, importing nothing from scones: the isolated worker loads
this file by path, as it loads ``contract.py``.
"""

from __future__ import annotations

import io
import logging
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, TextIO

#: What Invoke's ``LogType: Tail`` returns: the end of the invocation's log (docs/aws-facts.md, Lambda).
TAIL_BYTES: Final = 4096
#: Kept per invocation; beyond it the start of the output is dropped (the end matters most).
MAX_LOG_CHARS: Final = 256 * 1024

_current = threading.local()


class InvocationLog:
    """The text of one invocation's log."""

    __slots__ = ("_parts", "_size", "dropped", "request_id")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self._parts: list[str] = []
        self._size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * MAX_LOG_CHARS:
            self._compact()

    def _compact(self) -> None:
        text = "".join(self._parts)
        keep = text[-MAX_LOG_CHARS:]
        self.dropped += len(text) - len(keep)
        self._parts, self._size = [keep], len(keep)

    def text(self) -> str:
        if self._size > MAX_LOG_CHARS:
            self._compact()
        head = f"[{self.dropped} earlier characters of output dropped]\n" if self.dropped else ""
        return head + "".join(self._parts)


def tail(text: str, limit: int = TAIL_BYTES) -> bytes:
    """The last ``limit`` bytes of a log, as ``X-Amz-Log-Result`` carries them (before base64)."""
    data = text.encode("utf-8")
    return data[-limit:]


class ThreadRoutedStream(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: text written by a thread inside an invocation goes to that
    invocation's log, anything else to the stream it replaced."""

    def __init__(self, fallback: TextIO) -> None:
        super().__init__()
        self.fallback = fallback

    def write(self, text: str) -> int:
        log: InvocationLog | None = getattr(_current, "log", None)
        if log is None:
            return self.fallback.write(text)
        log.write(text)
        return len(text)

    def flush(self) -> None:
        self.fallback.flush()

    def isatty(self) -> bool:
        return self.fallback.isatty()

    def fileno(self) -> int:
        return self.fallback.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # typeshed: a plain attribute of TextIOBase
        return getattr(self.fallback, "encoding", "utf-8")


class LambdaLogHandler(logging.Handler):
    """The root logger's handler on AWS: ``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``, into the log of the
    invocation running on this thread (records outside invocations are left to the other handlers)."""

    def emit(self, record: logging.LogRecord) -> None:
        log: InvocationLog | None = getattr(_current, "log", None)
        if log is None:
            return
        try:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            millis = int(record.msecs)
            log.write(f"[{record.levelname}]\t{stamp}.{millis:03d}Z\t{log.request_id}\t{record.getMessage()}\n")
            if record.exc_info:
                log.write(logging.Formatter().formatException(record.exc_info) + "\n")
        except Exception:  # a broken record must not break the invocation
            self.handleError(record)


_install_lock = threading.Lock()
_handler = LambdaLogHandler()


def route_output() -> None:
    """Route ``sys.stdout``/``sys.stderr`` by thread and give the root logger Lambda's handler. Checked at every
    invocation (``capturing``): whoever replaced the streams since (a test runner's capture) is wrapped in turn."""
    if type(sys.stdout) is ThreadRoutedStream and type(sys.stderr) is ThreadRoutedStream:
        return
    with _install_lock:
        if type(sys.stdout) is not ThreadRoutedStream:
            sys.stdout = ThreadRoutedStream(sys.stdout)
        if type(sys.stderr) is not ThreadRoutedStream:
            sys.stderr = ThreadRoutedStream(sys.stderr)
        root = logging.getLogger()
        if _handler not in root.handlers:
            root.addHandler(_handler)


def unroute_output() -> None:
    """Give the streams and the root logger back (when the runtime closes)."""
    with _install_lock:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if type(stream) is ThreadRoutedStream:
                setattr(sys, name, stream.fallback)
        logging.getLogger().removeHandler(_handler)


def start(request_id: str, version: str = "$LATEST") -> InvocationLog:
    """A new invocation's log, opened with Lambda's START line."""
    log = InvocationLog(request_id)
    log.write(f"START RequestId: {request_id} Version: {version}\n")
    return log


@contextmanager
def capturing(log: InvocationLog) -> Iterator[InvocationLog]:
    """While inside, this thread's output goes to ``log``."""
    route_output()
    previous = getattr(_current, "log", None)
    _current.log = log
    try:
        yield log
    finally:
        _current.log = previous


def end(log: InvocationLog, duration_ms: float, memory_mb: int) -> None:
    """The END and REPORT lines that close an invocation's log."""
    used = max(1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    billed = max(1, int(-(-duration_ms // 1)))
    log.write(f"END RequestId: {log.request_id}\n")
    log.write(f"REPORT RequestId: {log.request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
              f"Memory Size: {memory_mb} MB\tMax Memory Used: {used} MB\t\n")


def error_lines(error: Any) -> str:
    """How the runtime logs a failed invocation: ``[ERROR] Type: message`` and the stack trace."""
    if not isinstance(error, dict) or "errorType" not in error:
        return ""
    text = f"[ERROR] {error['errorType']}: {error.get('errorMessage', '')}\n"
    trace = error.get("stackTrace")
    if isinstance(trace, list) and trace:
        text += "Traceback (most recent call last):\n" + "".join(str(line) for line in trace)
    return text


def timed_out_line(request_id: str, timeout_seconds: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return f"{stamp}.000Z {request_id} Task timed out after {timeout_seconds:.2f} seconds\n"
