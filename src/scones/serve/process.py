"""What an endpoint process sets up about itself before it serves: its allocator and its lifetime.

Both ``scones serve`` (``server.run_server``) and each ``--workers`` process (``app.app_from_env``)
call these, and ``running_endpoint`` (``runner``) starts children that rely on ``end_with_parent``;
they live here, below all three, so none of those modules has to import another to reach them.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Final

LOG = logging.getLogger(__name__)

#: Set for an endpoint started by ``running_endpoint``: the pid whose death should stop it.
PARENT_ENV: Final = "SCONES_END_WITH_PARENT"


def _libc() -> Any:
    import ctypes
    import ctypes.util

    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def return_large_blocks_to_the_os(threshold: int = 4 * 1024 * 1024) -> None:
    """Fix glibc's mmap threshold so that blocks of ``threshold`` bytes or more are always mapped and
    unmapped, never kept in a thread's malloc arena.

    By default glibc raises the threshold after the first large free, so the 16 MB blocks Pillow
    decodes a big image into then come from per-thread arenas and stay there: concurrent requests
    for huge images left the process holding their memory for good; with the threshold fixed it is
    returned once they are answered (docs/performance.md, Endpoint). Small allocations (the common
    32×32 request) are unaffected. No-op where glibc's ``mallopt`` is missing.
    """
    m_mmap_threshold = -3
    try:
        _libc().mallopt(m_mmap_threshold, threshold)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        LOG.debug("mallopt unavailable; large image buffers use the platform's default allocator policy")


def end_with_parent() -> None:
    """For an endpoint started on demand (``running_endpoint``): ask Linux to SIGTERM this process when
    the parent that started it dies, so a parent killed with SIGKILL or by the OOM killer does not leave
    the endpoint listening, reparented to init. Set in the child itself (not in a preexec_fn, which is
    unsafe in a threaded parent); if the parent is already gone, stop at once. Linux sends the signal
    when the parent *thread* that started the child ends: ``running_endpoint`` is entered and left
    on one thread, which outlives the endpoint it starts."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    import signal

    pr_set_pdeathsig = 1
    try:
        _libc().prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    if str(os.getppid()) != parent:  # the parent died before the request took effect
        raise SystemExit(0)
