"""The object store a Distributed Map reads items from and writes results to.

The interpreter only sees ``ObjectStore``; ``FolderObjects`` is the local one:
a bucket is the folder ``<root>/<bucket>``, an object the file below it (the
layout of ``scones.store.LocalStore`` and of ``scones up``'s S3), read directly,
so ``scones workflow run`` needs no server.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from scones.store import FILE_MODE, STAGING_MARK


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object of a listing: ListObjectsV2's ``Contents`` entry."""

    key: str
    size: int
    last_modified: float
    etag: str  # without quotes


class ObjectError(Exception):
    """An S3 call failed; ``cause`` words it as Step Functions reports an S3 error."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    @property
    def cause(self) -> str:
        request_id = uuid.uuid4().hex[:16].upper()
        return (f"{self.message} (Service: S3, Status Code: {self.status}, Error Code: {self.code}, "
                f"Request ID: {request_id})")


def no_such_bucket(bucket: str) -> ObjectError:
    return ObjectError("NoSuchBucket", f"The specified bucket does not exist: {bucket}", 404)


def no_such_key(bucket: str, key: str) -> ObjectError:
    return ObjectError("NoSuchKey", f"The specified key does not exist: s3://{bucket}/{key}", 404)


def _cannot_write(bucket: str, key: str, exc: OSError) -> ObjectError:
    """A write the local folder refused, worded as S3 refuses a request (the Map then fails with
    ``States.ResultWriterFailed`` rather than an internal error): a key a file layout cannot hold
    (a part of it is already an object, or it is a folder of other keys) is the user's to change."""
    if isinstance(exc, (FileExistsError, NotADirectoryError, IsADirectoryError)):
        return ObjectError("InvalidArgument", f"The local store cannot hold the key s3://{bucket}/{key}: a part of "
                           "it is already an object (a file), or it is a folder holding other keys", 400)
    return ObjectError("InternalError", f"The local store cannot write s3://{bucket}/{key}: {exc.strerror or exc}",
                       500)


class ObjectStore(Protocol):
    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """The objects under ``prefix`` in key order (UTF-8 bytes, as S3 lists them), one at a time."""
        ...

    def open_object(self, bucket: str, key: str) -> BinaryIO:
        """The object's bytes, to read; ``ObjectError`` when the bucket or the key does not exist."""
        ...

    def put_object(self, bucket: str, key: str, source: BinaryIO) -> int:
        """Write ``source`` (read to its end) as the object; returns its size. The bucket must exist."""
        ...


class FolderObjects:
    """``ObjectStore`` over a local folder: buckets are its sub-folders."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _bucket(self, bucket: str) -> Path:
        if not bucket or "/" in bucket or bucket in (".", "..") or bucket.startswith(STAGING_MARK) \
                or "\x00" in bucket:
            raise no_such_bucket(bucket)
        path = self.root / bucket
        if not path.is_dir():
            raise no_such_bucket(bucket)
        return path

    def _path(self, bucket: str, key: str) -> Path:
        base = self._bucket(bucket)
        path = _below(base, key)
        if path is None:
            raise no_such_key(bucket, key)
        return path

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        base = self._bucket(bucket)
        # Descend only into the folder the prefix names: "a/b/c" lists below "a/b" and keeps keys from "a/b/c".
        folder, _, _ = prefix.rpartition("/")
        start = _below(base, folder) if folder else base
        if start is None or not start.is_dir():
            return  # a folder no key can lie below ("../x/", "a//b/", out of the store): nothing to list
        yield from _walk(start, f"{folder}/" if folder else "", prefix)

    def open_object(self, bucket: str, key: str) -> BinaryIO:
        path = self._path(bucket, key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise no_such_key(bucket, key) from exc

    def put_object(self, bucket: str, key: str, source: BinaryIO) -> int:
        path = self._path(bucket, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise _cannot_write(bucket, key, exc) from exc
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), FILE_MODE)  # an object's mode, as scones.store writes them, not mkstemp's 0600
                while chunk := source.read(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
            os.replace(temp, path)
        except BaseException as exc:
            Path(temp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _cannot_write(bucket, key, exc) from exc
            raise
        return size


def _below(base: Path, key: str) -> Path | None:
    """The file (or folder) ``key`` names under ``base``; None when no object can have that key here: an
    empty, ``.`` or ``..`` part, a backslash or NUL, or a path that leads out of ``base`` through a link."""
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in key or "\x00" in key:
        return None
    path = base.joinpath(*parts)
    if not os.path.realpath(path).startswith(os.path.realpath(base) + os.sep):
        return None
    return path


def _walk(folder: Path, key_prefix: str, wanted: str) -> Iterator[ObjectInfo]:
    # Only names are held (a folder's as "<name>/", so all its keys sort together), and sorted in place:
    # str order is code point order, which is the UTF-8 byte order S3 lists keys in. A folder of
    # 100,000 objects costs a few MB here, not a DirEntry with its cached stat each.
    try:
        with os.scandir(folder) as entries:
            names = [e.name + "/" if e.is_dir(follow_symlinks=False) else e.name for e in entries
                     if not (e.name.startswith(STAGING_MARK) or (e.name.startswith(".") and e.name.endswith(".tmp")))]
    except OSError:
        return
    names.sort()
    for name in names:
        key = key_prefix + name
        path = os.path.join(folder, name)
        if name.endswith("/"):
            if key.startswith(wanted) or wanted.startswith(key):
                yield from _walk(Path(path), key, wanted)
            continue
        if not key.startswith(wanted):
            continue
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            continue  # removed meanwhile
        if stat.S_ISREG(st.st_mode):
            yield ObjectInfo(key, st.st_size, st.st_mtime, _md5(path))


def _md5(path: str) -> str:
    """The ETag S3 gives an object written in one piece."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
