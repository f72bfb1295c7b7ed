"""Put a finished temporary file in place of an object, atomically for readers.

``os.replace`` is atomic, but on ext4 replacing an *existing* file also makes the kernel write the new
file's data out at once (``auto_da_alloc``, a guard for programs that forget ``fsync``): 0.5-1 ms per
overwrite here, five times the cost of the whole rest of a small PutObject. Swapping the two names with
``renameat2(RENAME_EXCHANGE)`` is just as atomic for readers (the key names the old file, then the new
one) and skips that flush; the old file, now under the temporary name, is then unlinked (if the server
dies in between, the start-up sweep removes it). Where the call is missing (not Linux, an old libc, a file
system without it) or there is nothing to replace, ``os.replace`` does the job.

Durability is the same as for any write here: no ``fsync``, like the store's other atomic writes, so a
power loss may lose the last writes but a crash of the server never shows a partial object.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import stat
import sys
from collections.abc import Callable
from typing import Final

_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2


def _load_renameat2() -> Callable[[bytes, bytes], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int

    def exchange(a: bytes, b: bytes) -> int:
        if function(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
            return 0
        return ctypes.get_errno()

    return exchange


_exchange = _load_renameat2()


def publish(tmp: str, path: str) -> None:
    """Make ``tmp`` the file ``path``; IsADirectoryError when ``path`` is a folder."""
    if _exchange is not None:
        try:
            target = os.lstat(path)
        except FileNotFoundError:
            target = None
        if target is not None and stat.S_ISDIR(target.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        if target is not None:
            error = _exchange(os.fsencode(tmp), os.fsencode(path))
            if error == 0:
                old = os.lstat(tmp)
                if stat.S_ISDIR(old.st_mode):  # a folder appeared meanwhile: put it back
                    _exchange(os.fsencode(tmp), os.fsencode(path))
                    raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
                os.unlink(tmp)
                return
            if error not in (errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise OSError(error, os.strerror(error), path)
    os.replace(tmp, path)
