"""One isolated worker: a warm, clean interpreter running a single function's zip (the parent's side).

The worker runs ``bootstrap.py`` beside this file; its docstring describes the
line protocol spoken here.
"""

from __future__ import annotations

import enum
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

from scones.lambda_runtime import logs
from scones.lambda_runtime.contract import LATEST, exit_error, timeout_error
from scones.lambda_runtime.function import FunctionConfig, Ran

LOG = logging.getLogger(__name__)

BOOTSTRAP: Final = Path(__file__).resolve().with_name("bootstrap.py")
#: The init phase (imports) gets its own allowance besides the timeout, like Lambda's 10 s init window.
INIT_SECONDS: Final = 10.0


class WorkerOutcome(enum.Enum):
    OK = "ok"  # the worker answered and stays warm
    TIMEOUT = "timeout"  # the invocation overran: the worker was killed
    EXITED = "exited"  # the worker's process ended


class Worker:
    """One worker process; its invocations come one at a time."""

    def __init__(self, config: FunctionConfig, task_dir: Path, layer_dir: Path, region: str) -> None:
        self.config = config
        # A clean interpreter: -I ignores PYTHON* variables and user site, -S drops site-packages.
        paths = [str(task_dir), str(layer_dir)]
        code = ("import sys, runpy; sys.path[:0] = " + json.dumps(paths)
                + "; runpy.run_path(" + json.dumps(str(BOOTSTRAP)) + ", run_name='__main__')")
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

    @property
    def pid(self) -> int:
        return self.process.pid

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
        if line is None:
            return None
        reply: dict[str, Any] = json.loads(line)
        return reply

    def invoke(self, event: Any, request_id: str, arn: str) -> tuple[Ran, WorkerOutcome]:
        timeout = self.config.timeout_seconds
        started = time.perf_counter()
        if not self.ready:
            if not self._next_reply(time.monotonic() + INIT_SECONDS + timeout):
                return self._exited(request_id, started)
            self.ready = True
        assert self.process.stdin is not None
        request = {"request_id": request_id, "event": event, "timeout_ms": int(timeout * 1000), "arn": arn}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError:  # BrokenPipeError: the worker is gone
            return self._exited(request_id, started)
        reply = self._next_reply(time.monotonic() + timeout)
        if reply is False:
            self.kill()
            log = self._log_of(request_id, started, logs.timed_out_line(request_id, timeout))
            return Ran(timeout_error(request_id, timeout), True, log), WorkerOutcome.TIMEOUT
        if not isinstance(reply, dict):
            return self._exited(request_id, started)
        return Ran(reply["payload"], bool(reply["error"]), str(reply.get("log", ""))), WorkerOutcome.OK

    def _exited(self, request_id: str, started: float) -> tuple[Ran, WorkerOutcome]:
        try:
            status = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            status = self.process.returncode
        error = exit_error(request_id, status)
        return Ran(error, True, self._log_of(request_id, started, logs.error_lines(error))), WorkerOutcome.EXITED

    def _log_of(self, request_id: str, started: float, line: str) -> str:
        """The log of an invocation the worker could not report itself (it was killed, or died)."""
        log = logs.start(request_id)
        log.write(line)
        logs.end(log, (time.perf_counter() - started) * 1000, self.config.memory_mb)
        return log.text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
