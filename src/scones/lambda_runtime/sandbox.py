"""A private ``/tmp`` for each isolated worker, as every Lambda execution environment has its own.

Code written for Lambda writes fixed names in ``/tmp`` (the classic serializer
downloads to ``/tmp/image.png``): safe there, because an environment serves one
invocation at a time and no other environment sees its ``/tmp``. Locally many
workers run at once on one machine, so each gets a mount namespace of its own in
which the worker's own folder is bind-mounted on ``/tmp``. The worker does it
itself as it starts (``enter_private_tmp``), while it still has a single thread:
``unshare(CLONE_NEWUSER)`` refuses a threaded process, and the parent, which has
threads, cannot do it in ``preexec_fn``. Python 3.11 has no ``os.unshare``, hence
``ctypes``. Paths the worker needs that live under ``/tmp`` (its code, its
packages, even the interpreter) are bound back at the same place on top.

``probe`` tells the parent once whether this works here (Linux with user
namespaces, or root with ``CAP_SYS_ADMIN``); when it does not, the runtime runs
each user function one invocation at a time instead (see ``isolated.py``).

Standard library only, importing nothing from scones: the worker loads this
file by path, as it loads ``contract.py``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Final

TMP: Final = "/tmp"
CLONE_NEWNS: Final = 0x00020000
CLONE_NEWUSER: Final = 0x10000000
MS_BIND: Final = 0x1000
MS_REC: Final = 0x4000
MS_PRIVATE: Final = 0x40000
#: The worker's instructions (``{"folder", "expose"}`` as JSON); ``bootstrap.py`` removes the variable before any
#: user code runs.
SANDBOX_ENV: Final = "_SCONES_PRIVATE_TMP"
#: The file ``probe`` has its child write in the private ``/tmp``; the parent looks for it in the folder.
PROBE_FILE: Final = ".scones-tmp-probe"


class SandboxError(OSError):
    """The private ``/tmp`` could not be set up (the reason is the system call's)."""


def enter_private_tmp(folder: str, expose: Sequence[str] = ()) -> None:
    """Mount ``folder`` on ``/tmp`` for this process alone, keeping the paths in ``expose`` where they are.

    Must run before the process starts a thread. As root only a mount namespace is needed; otherwise a
    user namespace comes first, mapping this user to itself, so files keep their owner.
    """
    if not sys.platform.startswith("linux"):
        raise SandboxError(f"mount namespaces are Linux only (this is {sys.platform})")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare.argtypes = [ctypes.c_int]
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    uid, gid = os.getuid(), os.getgid()
    user_namespace = os.geteuid() != 0
    _check(libc.unshare(CLONE_NEWNS | (CLONE_NEWUSER if user_namespace else 0)), "unshare")
    if user_namespace:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(libc, None, "/", MS_REC | MS_PRIVATE)  # nothing mounted here propagates back to the machine
    # Opened inside the new namespace (a bind from another namespace's mount is refused), before /tmp is covered.
    kept = [(path, os.open(path, os.O_PATH)) for path in outermost(expose)]
    _mount(libc, folder, TMP, MS_BIND | MS_REC)
    for path, fd in kept:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(libc, f"/proc/self/fd/{fd}", path, MS_BIND | MS_REC)
        os.close(fd)


def under_tmp(paths: Iterable[str]) -> list[str]:
    """The real paths among ``paths`` that a private ``/tmp`` would hide."""
    found = []
    for path in paths:
        real = os.path.realpath(path)
        if os.path.exists(real) and os.path.commonpath([real, TMP]) == TMP and real != TMP:
            found.append(real)
    return found


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths not inside another one of them (binding the outer one keeps the inner visible too)."""
    ordered = sorted(set(paths))
    kept: list[str] = []
    for path in ordered:
        if not any(os.path.commonpath([path, outer]) == outer for outer in kept):
            kept.append(path)
    return kept


def probe(folder: str, timeout: float = 10.0) -> str | None:
    """``None`` if a worker can get a private ``/tmp`` on this machine, else why not (one child process)."""
    if not sys.platform.startswith("linux"):
        return f"mount namespaces are Linux only (this is {sys.platform})"
    import subprocess  # here, not above: every worker loads this file, and only the parent probes

    try:
        done = subprocess.run([sys.executable, "-I", "-S", os.path.abspath(__file__), folder],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the probe could not run: {exc}"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"the probe exited with status {done.returncode}"
    if not os.path.exists(os.path.join(folder, PROBE_FILE)):
        return "a file written to /tmp in the namespace did not land in the worker's folder"
    return None


def _check(result: int, call: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"{call}: {os.strerror(errno)}")


def _mount(libc: ctypes.CDLL, source: str | None, target: str, flags: int) -> None:
    result = libc.mount(None if source is None else os.fsencode(source), os.fsencode(target), None, flags, None)
    if result != 0:
        errno = ctypes.get_errno()
        raise SandboxError(errno, f"mount {source or '(none)'} on {target}: {os.strerror(errno)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _probe_main(folder: str) -> int:
    try:
        enter_private_tmp(folder)
        with open(os.path.join(TMP, PROBE_FILE), "w") as fh:
            fh.write("ok")
    except OSError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main(sys.argv[1]))
