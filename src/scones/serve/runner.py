"""``running_endpoint``: a served model for the length of a ``with`` block.

The workflow, the demo and the benchmarks need an endpoint they can call and
then stop with nothing lost. By default it is a child process running
``python -m scones serve`` (the same code path as the CLI and the container);
``subprocess=False`` runs it in a thread of this process instead. Leaving the
block stops it with SIGTERM, which drains Data Capture before the process exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess as sp
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import scones
from scones.errors import SconesError
from scones.serve.config import DEFAULT_ENDPOINT_NAME, DEFAULT_VARIANT
from scones.serve.process import PARENT_ENV

LOG = logging.getLogger(__name__)

STARTUP_TIMEOUT: Final = 120.0
STOP_TIMEOUT: Final = 30.0


class EndpointStartError(SconesError):
    """The endpoint process did not become healthy."""


@dataclass(frozen=True)
class RunningEndpoint:
    url: str
    endpoint_name: str
    capture_dest: str | None
    variant: str = DEFAULT_VARIANT
    pid: int | None = None

    @property
    def invocations_url(self) -> str:
        """The container route (``/invocations``)."""
        return f"{self.url}/invocations"

    @property
    def runtime_url(self) -> str:
        """``boto3.client("sagemaker-runtime", endpoint_url=...)`` takes this (the same as ``url``)."""
        return self.url

    def runtime_client(self, region_name: str = "us-east-1") -> Any:
        """A boto3 ``sagemaker-runtime`` client for this endpoint (dummy credentials: nothing is signed for AWS)."""
        import boto3

        return boto3.client("sagemaker-runtime", endpoint_url=self.url, region_name=region_name,
                            aws_access_key_id="scones", aws_secret_access_key="scones")


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:].strip()


def _user_error(log: str) -> tuple[str, str | None] | None:
    """The ``Error: ...`` line (and its ``hint:``) that ``scones serve`` printed before exiting, if any."""
    lines = log.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("Error: "):
            hint = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return lines[i].removeprefix("Error: "), hint.removeprefix("hint: ") if hint.startswith("hint: ") else None
    return None


#: Loopback only: never route the health check through an HTTP proxy from the environment.
_NO_PROXY_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _ping(url: str) -> bool:
    try:
        with _NO_PROXY_OPENER.open(f"{url}/ping", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_endpoint(model: str, *, endpoint_name: str = DEFAULT_ENDPOINT_NAME, variant: str = DEFAULT_VARIANT,
                     capture_dest: str | None = None, sampling_percentage: int = 100, port: int = 0,
                     subprocess: bool = True, workers: int | None = None,
                     startup_timeout: float = STARTUP_TIMEOUT) -> Iterator[RunningEndpoint]:
    """Serve ``model`` on 127.0.0.1 while the block runs; Data Capture to ``capture_dest`` when given."""
    if not subprocess:
        yield from _in_thread(model, endpoint_name, variant, capture_dest, sampling_percentage, port, workers)
        return
    with tempfile.TemporaryDirectory(prefix="scones-serve-") as tmp:
        ready, log_path = Path(tmp) / "ready.json", Path(tmp) / "server.log"
        cmd = [sys.executable, "-m", "scones", "--no-progress", "serve", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--endpoint-name", endpoint_name,
               "--variant", variant, "--ready-file", str(ready), "--log-level", "warning"]
        if capture_dest is not None:
            cmd += ["--capture-dest", capture_dest, "--sampling-percentage", str(sampling_percentage)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        env = dict(os.environ)
        # The child must import this very scones (a worktree's src/ may not be what is installed).
        src = str(Path(scones.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        env.pop("SAGEMAKER_BIND_TO_PORT", None)
        env[PARENT_ENV] = str(os.getpid())  # the child ends with us, even if we are SIGKILLed
        with open(log_path, "wb") as log:
            proc = sp.Popen(cmd, stdin=sp.DEVNULL, stdout=log, stderr=sp.STDOUT, env=env)
        try:
            url = _wait_ready(proc, ready, log_path, startup_timeout)
        except BaseException:
            _stop(proc, log_path, quiet=True)
            raise
        try:
            yield RunningEndpoint(url=url, endpoint_name=endpoint_name, capture_dest=capture_dest,
                                  variant=variant, pid=proc.pid)
        finally:
            _stop(proc, log_path)


def _wait_ready(proc: sp.Popen[bytes], ready: Path, log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    url: str | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = _tail(log_path)
            refusal = _user_error(log)
            if refusal is not None:  # the child's own "Error: ... / hint: ..." says it best
                raise EndpointStartError(f"The endpoint could not start: {refusal[0]}", hint=refusal[1])
            raise EndpointStartError(f"The endpoint exited during start-up (exit code {proc.returncode}):\n{log}")
        if url is None and ready.exists():
            url = f"http://127.0.0.1:{json.loads(ready.read_text())['port']}"
        if url is not None and _ping(url):
            return url
        time.sleep(0.05)
    raise EndpointStartError(f"The endpoint did not answer /ping within {timeout:g} s:\n{_tail(log_path)}")


def _stop(proc: sp.Popen[bytes], log_path: Path, *, quiet: bool = False) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except sp.TimeoutExpired:
            LOG.error("the endpoint did not stop within %g s of SIGTERM; killing it (capture may be lost):\n%s",
                      STOP_TIMEOUT, _tail(log_path))
            proc.kill()
            proc.wait()
            return
    if quiet:
        return
    # uvicorn re-raises the SIGTERM it handled once shut down: the process then ends by the signal
    # (-SIGTERM) or, through the CLI's handler, with status 128 + SIGTERM. Both are clean stops.
    if proc.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        LOG.warning("the endpoint exited with code %s:\n%s", proc.returncode, _tail(log_path))
        return
    # A clean exit can still have logged trouble (a capture store that failed): pass it on.
    problems = [line for line in _tail(log_path, 20_000).splitlines() if " ERROR " in line]
    if problems:
        LOG.warning("the endpoint reported errors:\n%s", "\n".join(problems[-20:]))


def _in_thread(model: str, endpoint_name: str, variant: str, capture_dest: str | None, sampling_percentage: int,
               port: int, workers: int | None) -> Iterator[RunningEndpoint]:
    from scones.serve.capture import CaptureConfig
    from scones.serve.config import ServeConfig
    from scones.serve.server import serve_in_thread

    capture = None if capture_dest is None else CaptureConfig(capture_dest, sampling_percentage=sampling_percentage)
    config = ServeConfig(model=str(model), host="127.0.0.1", port=port, endpoint_name=endpoint_name,
                         variant=variant, capture=capture, workers=workers or 1, log_level="warning")
    with serve_in_thread(config) as server:
        yield RunningEndpoint(url=server.url, endpoint_name=endpoint_name, capture_dest=capture_dest,
                              variant=variant)
