"""Where buckets and keys live on disk, and which names are refused before anything is touched.

A bucket is the folder ``<root>/<bucket>``, an object the file ``<root>/<bucket>/<key>`` (the layout of
``scones.store.LocalStore``). Object keys are arbitrary strings in S3 but must be paths here, so:

- refused with ``InvalidArgument`` (nothing written): NUL, backslash, a leading ``/``, empty segments
  (``a//b``), ``.``/``..`` segments, and segments the store keeps invisible (temporary ``.*.tmp`` files,
  ``.scones-staging-*`` folders); with ``KeyTooLongError``: keys over 1,024 bytes or a segment over 255;
- a key ending in ``/`` (the console's "folder") is a *folder marker*: the folder itself plus a metadata
  record; it must be empty;
- a key that is a folder (``a`` while ``a/b`` exists), or that would need a file as a folder (``a/b``
  while ``a`` is an object), is refused with ``InvalidArgument`` naming the conflict;
- a symbolic link inside a bucket that leads out of the store root is never followed (``AccessDenied``).
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Final

from scones.gateway.s3.errors import S3Error, access_denied, invalid_argument, invalid_bucket_name
from scones.store import STAGING_MARK

MAX_KEY_BYTES: Final = 1024
MAX_SEGMENT_BYTES: Final = 255
#: Our temporary files: hidden and ``.tmp`` (listings skip them), with the writer's pid for the clean-up.
PARTIAL_PREFIX: Final = ".s3-partial-"
_STRICT_BUCKET: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: Folders that predate this API may use the legacy (us-east-1) names: upper case and underscores too.
_LEGACY_BUCKET: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_new_bucket_name(bucket: str) -> None:
    """S3's rules for a new bucket's name (general purpose buckets)."""
    why = None
    if not 3 <= len(bucket) <= 63:
        why = "Bucket names must be between 3 (min) and 63 (max) characters long."
    elif not _STRICT_BUCKET.match(bucket):
        why = ("Bucket names can consist only of lowercase letters, numbers, dots (.), and hyphens (-), "
               "and must begin and end with a letter or number.")
    elif ".." in bucket or ".-" in bucket or "-." in bucket:
        why = "Bucket names must not contain two adjacent periods, or a period next to a hyphen."
    elif bucket.startswith(_RESERVED_PREFIXES) or bucket.endswith(_RESERVED_SUFFIXES):
        why = "Bucket names must not use a reserved prefix or suffix."
    else:
        try:
            ipaddress.IPv4Address(bucket)
            why = "Bucket names must not be formatted as an IP address."
        except ValueError:
            pass
    if why:
        raise invalid_bucket_name(bucket, f"The specified bucket is not valid. {why}")


def is_bucket_folder_name(name: str) -> bool:
    return bool(_LEGACY_BUCKET.match(name)) and not name.startswith(STAGING_MARK)


def is_partial(name: str) -> bool:
    """A file name the store treats as a write in progress (never an object)."""
    return name.startswith(".") and name.endswith(".tmp")


def check_key(key: str) -> None:
    """Refuse keys that cannot be a path below the bucket (see the module docstring)."""
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", 400, MaxSizeAllowed=str(MAX_KEY_BYTES))
    if "\x00" in key:
        raise invalid_argument("Object keys may not contain a NUL byte here", "key", key.replace("\x00", "\\0"))
    if "\\" in key:
        raise invalid_argument("Object keys may not contain a backslash here: the local store maps keys to files",
                               "key", key)
    if key.startswith("/"):
        raise invalid_argument("Object keys may not start with '/' here: the local store maps keys to files",
                               "key", key)
    segments = key.split("/")
    if key.endswith("/"):
        segments.pop()
    for segment in segments:
        if segment in ("", ".", ".."):
            raise invalid_argument("Object keys may not hold empty, '.' or '..' segments here "
                                   "(the local store maps keys to files)", "key", key)
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise S3Error("KeyTooLongError", f"A key segment is longer than {MAX_SEGMENT_BYTES} bytes, "
                          "the longest file name the local store can hold", 400,
                          MaxSizeAllowed=str(MAX_SEGMENT_BYTES))
        if is_partial(segment) or segment.startswith(STAGING_MARK):
            raise invalid_argument("Object key segments named '.*.tmp' or '.scones-staging-*' are reserved "
                                   "for writes in progress in the local store", "key", key)


class Layout:
    """Paths of buckets and objects under one store root, with the escape checks."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()
        self._real_root = os.path.realpath(self.root)
        # Temporary names: pid, then a counter from a random start (no randomness per write).
        self._names = itertools.count(secrets.randbits(32))

    def bucket_dir(self, bucket: str) -> Path:
        """The bucket's folder (it may not exist); InvalidBucketName for names no folder may have."""
        if not is_bucket_folder_name(bucket):
            raise invalid_bucket_name(bucket)
        return self.root / bucket

    def object_path(self, bucket: str, key: str) -> Path:
        """The file (or, for a folder marker, the folder) behind ``key``.

        Keys hold no ``..``, so only a symbolic link below the root can lead out: one ``lstat`` per part
        that exists, and only links are resolved (``realpath`` of the whole path would also walk the
        root's own ancestors, every request).
        """
        check_key(key)  # callers check too; a path is never made from an unchecked key
        path = self.bucket_dir(bucket) / key
        current = self._real_root
        for part in (bucket, *key.split("/")):
            if not part:
                continue
            current = f"{current}/{part}"
            try:
                mode = os.lstat(current).st_mode
            except OSError:
                break  # missing (or not a folder): nothing below it exists, links neither
            if stat.S_ISLNK(mode):
                current = os.path.realpath(current)
                if not self.inside(current):
                    raise access_denied(f"The key {key!r} resolves outside the local store "
                                        "(a symbolic link leads out)")
        return path

    def check_inside(self, path: Path, key: str) -> None:
        """AccessDenied when a symbolic link on the way leads out of the store root."""
        if not self.inside(os.path.realpath(path)):
            raise access_denied(f"The key {key!r} resolves outside the local store (a symbolic link leads out)")

    def inside(self, real: str) -> bool:
        """Whether a resolved path is the root or below it."""
        return real == self._real_root or real.startswith(self._real_root + os.sep)

    def temp_path(self, folder: Path) -> Path:
        return folder / f"{PARTIAL_PREFIX}{os.getpid()}-{next(self._names):x}.tmp"


def conflict(key: str, why: str) -> S3Error:
    """A key that the file layout cannot hold beside another one."""
    return invalid_argument(f"The local store cannot hold the key {key!r}: {why}", "key", key)
