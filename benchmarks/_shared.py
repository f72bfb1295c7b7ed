"""What the benchmarks share: where ``../shared/data`` is, the PNG payloads they send, and the few
helpers that start, watch and stop the servers they measure side by side.

The benchmarks run as scripts (``python benchmarks/x.py``), so this folder is on ``sys.path``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
#: ``SCONES_SHARED_DATA``, else ``../shared/data`` beside the checkout (or beside a worktrees' folder).
SHARED_DATA = next((p for p in (Path(os.environ.get("SCONES_SHARED_DATA", REPO.parent / "shared" / "data")),
                                REPO.parent.parent / "shared" / "data") if p.is_dir()),
                   REPO.parent / "shared" / "data")
#: The bicycle/motorcycle subset in SageMaker's layout (train/, test/, *.lst).
CIFAR_FOLDER = SHARED_DATA / "cifar100-bicycle-motorcycle"


def test_pngs(limit: int = 200) -> list[bytes]:
    """The real CIFAR test PNGs when the shared data is at hand, else ``limit`` random 32x32 PNGs."""
    folder = CIFAR_FOLDER / "test"
    if folder.is_dir():
        return [p.read_bytes() for p in sorted(folder.glob("*.png"))[:limit]]
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for _ in range(limit):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_until(check: Callable[[], T | None], proc: subprocess.Popen[Any], what: str, seconds: float = 60) -> T:
    """``check()``'s first true answer (errors reading a half-written ready file count as not yet), failing
    early when ``proc`` (the server) exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            found = check()
        except (OSError, ValueError, KeyError):
            found = None
        if found:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s")


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    """Ask the server to stop (SIGINT for servers that shut down gracefully on it), then kill it."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
