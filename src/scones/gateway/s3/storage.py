"""Buckets and objects as folders and files, with their metadata beside them in the state folder.

Every write goes to a temporary name in the destination folder (``.s3-partial-<pid>-<random>.tmp``, which
listings skip) and becomes visible by one rename; the rename and the metadata record are made together
on the event loop, so readers see the old object or the new one, whole. Temporary files left by a killed
server are removed at the next start (``sweep_partials``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import mimetypes
import os
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scones.gateway.s3.errors import S3Error, no_such_bucket, no_such_key
from scones.gateway.s3.layout import PARTIAL_PREFIX, Layout, conflict, is_bucket_folder_name, is_partial
from scones.gateway.s3.metadata import MetadataStore, ObjectMeta
from scones.gateway.s3.publish import publish
from scones.store import FILE_MODE, STAGING_MARK

LOG = logging.getLogger(__name__)

EMPTY_MD5: Final = hashlib.md5(b"").hexdigest()
#: Partial files of a writer that is not running are removed at start-up; so are ones older than this.
STALE_PARTIAL_SECONDS: Final = 24 * 3600


@dataclass
class Reservation:
    """A write in progress: the object's path, and the open temporary file beside it."""

    path: Path
    tmp: Path
    fd: int


@dataclass
class OpenObject:
    """An object opened for reading: the descriptor pins this version even if it is replaced meanwhile."""

    fd: int | None  # None for a folder marker
    st: os.stat_result
    meta: ObjectMeta | None  # None until derived (a file nobody described)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def guess_content_type(key: str) -> str:
    return mimetypes.guess_type(key, strict=False)[0] or "binary/octet-stream"


def file_md5(fd: int) -> str:
    digest = hashlib.md5()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        digest.update(block)
        offset += len(block)
    return digest.hexdigest()


class Storage:
    def __init__(self, root: Path, state_dir: Path) -> None:
        self.layout = Layout(root)
        self.state_dir = state_dir
        self.uploads_dir = self.state_dir / "uploads"
        self.meta = MetadataStore(self.state_dir / "metadata.sqlite")

    def close(self) -> None:
        self.meta.close()

    # -- buckets ---------------------------------------------------------------
    def bucket_dir(self, bucket: str) -> Path:
        """The folder of an existing bucket; NoSuchBucket otherwise (a symlink out of the root is none).

        One ``lstat``: a folder right below the root is inside it, so only a link is resolved (``realpath``
        of every bucket path would walk the root's own ancestors, on every bucket-level request and once
        per key of a DeleteObjects).
        """
        path = self.layout.bucket_dir(bucket)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            raise no_such_bucket(bucket) from None
        if stat.S_ISLNK(mode):
            if not path.is_dir():
                raise no_such_bucket(bucket)
            self.layout.check_inside(path, bucket)
        elif not stat.S_ISDIR(mode):
            raise no_such_bucket(bucket)
        return path

    def bucket_created(self, bucket: str, path: Path) -> float:
        created = self.meta.bucket_created(bucket)
        return created if created is not None else path.stat().st_mtime

    def list_buckets(self) -> list[tuple[str, float]]:
        if not self.layout.root.is_dir():
            return []
        found = []
        with os.scandir(self.layout.root) as entries:
            for entry in entries:
                if is_bucket_folder_name(entry.name) and entry.is_dir():
                    try:
                        if entry.is_symlink():
                            self.layout.check_inside(Path(entry.path), entry.name)
                    except S3Error:
                        continue
                    found.append((entry.name, self.bucket_created(entry.name, Path(entry.path))))
        return sorted(found)

    def create_bucket(self, bucket: str) -> bool:
        """False when it exists already."""
        path = self.layout.bucket_dir(bucket)
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            if not path.is_dir():
                raise S3Error("InvalidBucketName", f"A file named {bucket!r} is in the way of the bucket's "
                              "folder in the local store", 400, BucketName=bucket) from None
            return False
        self.meta.set_bucket(bucket, time.time())
        return True

    def delete_bucket(self, bucket: str) -> None:
        path = self.bucket_dir(bucket)
        if self.meta.markers(bucket, "") or any(True for _ in self.walk_files(path)):
            raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket)
        shutil.rmtree(path)
        for upload in list(self.meta.uploads(bucket)):  # uploads in progress go with their bucket
            self.meta.drop_upload(upload.upload_id)
            shutil.rmtree(self.uploads_dir / upload.upload_id, ignore_errors=True)
        self.meta.forget_bucket(bucket)

    def walk_files(self, folder: Path) -> Iterator[str]:
        """Every object file below ``folder`` (partial writes and staging folders skipped), unsorted."""
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(STAGING_MARK)]
            for name in filenames:
                if not is_partial(name):
                    yield os.path.join(dirpath, name)

    # -- objects -----------------------------------------------------------------
    def open(self, bucket: str, key: str) -> OpenObject:
        """Open an object for reading; NoSuchKey when there is none (or it is a folder without marker)."""
        path = self.layout.object_path(bucket, key)
        if key.endswith("/"):
            return self._open_marker(bucket, key, path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            self.bucket_dir(bucket)
            raise no_such_key(key) from None
        except (IsADirectoryError, NotADirectoryError):
            raise no_such_key(key) from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise no_such_key(key) from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise no_such_key(key)
        os.set_blocking(fd, True)
        meta = self.meta.get(bucket, key)
        return OpenObject(fd, st, meta if meta is not None and meta.matches(st) else None)

    def _open_marker(self, bucket: str, key: str, path: Path) -> OpenObject:
        meta = self.meta.get(bucket, key)
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if meta is None or st is None or not stat.S_ISDIR(st.st_mode):
            self.bucket_dir(bucket)
            raise no_such_key(key)
        return OpenObject(None, st, meta)

    def derive(self, bucket: str, key: str, obj: OpenObject) -> ObjectMeta:
        """Metadata for a file nobody described (dropped in by hand): MD5 ETag, type from the name. Blocking."""
        assert obj.fd is not None
        meta = ObjectMeta(obj.st.st_size, obj.st.st_mtime_ns, obj.st.st_ino, file_md5(obj.fd),
                          guess_content_type(key))
        return self.meta.put_derived(bucket, key, meta)

    def reserve(self, bucket: str, key: str) -> Reservation:
        """Open the temporary file of a new object, creating its folder when needed (one path check, and
        no extra system call when the folder exists); refuse keys the file layout cannot hold."""
        path = self.layout.object_path(bucket, key)
        tmp = self.layout.temp_path(path.parent)
        try:
            return Reservation(path, tmp, create_temp(tmp))
        except FileNotFoundError:
            pass
        except NotADirectoryError:
            raise conflict(key, "a part of it is already an object (a file)") from None
        self.bucket_dir(bucket)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise conflict(key, "a part of it is already an object (a file)") from None
        return Reservation(path, tmp, create_temp(tmp))

    def commit(self, bucket: str, key: str, path: Path, tmp: Path, meta: ObjectMeta) -> ObjectMeta:
        """Publish a finished temporary file as the object ``path`` (from ``reserve``), with its record.
        Call on the event loop, so the rename and the record are one step for every other request."""
        try:
            publish(str(tmp), str(path))
        except IsADirectoryError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise conflict(key, "it is a folder holding other keys") from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.meta.put(bucket, key, meta)
        return meta

    def put_marker(self, bucket: str, key: str, meta: ObjectMeta) -> ObjectMeta:
        """A folder marker (``photos/``): the folder, and its record."""
        path = self.layout.object_path(bucket, key)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise conflict(key, "an object (a file) has this name without the '/'") from None
        self.meta.put(bucket, key, meta)
        return meta

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object (absent is fine), and the folders it leaves empty."""
        bucket_dir = self.bucket_dir(bucket)
        path = self.layout.object_path(bucket, key)
        self.meta.delete(bucket, key)
        if key.endswith("/"):
            self.prune(path, bucket_dir, bucket)
            return
        try:
            if path.is_dir():
                return  # a folder of other keys: no object has this name
            path.unlink()
        except FileNotFoundError:
            return
        except NotADirectoryError:
            return
        self.prune(path.parent, bucket_dir, bucket)

    def prune(self, folder: Path, bucket_dir: Path, bucket: str) -> None:
        """Remove empty folders up to the bucket, keeping folder markers (best effort)."""
        while folder != bucket_dir and bucket_dir in folder.parents:
            marker = folder.relative_to(bucket_dir).as_posix() + "/"
            if self.meta.get(bucket, marker) is not None:
                return
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def temp_file(self, folder: Path) -> Path:
        return self.layout.temp_path(folder)

    # -- start-up ---------------------------------------------------------------
    def sweep_partials(self) -> int:
        """Remove the temporary files of writes that will never finish (their server is gone)."""
        removed = 0
        now = time.time()
        for folder in (self.layout.root, self.uploads_dir):
            if not folder.is_dir():
                continue
            for dirpath, _, filenames in os.walk(folder):
                for name in filenames:
                    if not (name.startswith(PARTIAL_PREFIX) and name.endswith(".tmp")):
                        continue
                    path = os.path.join(dirpath, name)
                    pid = name[len(PARTIAL_PREFIX):].split("-", 1)[0]
                    try:
                        if _alive(int(pid)) and now - os.stat(path).st_mtime < STALE_PARTIAL_SECONDS:
                            continue
                        os.unlink(path)
                        removed += 1
                    except (ValueError, OSError):
                        continue
        return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # at start-up none of our own writes is in flight
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def create_temp(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)


@contextlib.contextmanager
def filling(fd: int, tmp: Path) -> Iterator[None]:
    """Own the new temporary file ``tmp`` (open as ``fd``) while it is written: closed at the end, and on
    any failure (a client gone, a bad checksum, a cancelled task) removed too, so no half-written file stays."""
    try:
        yield
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    os.close(fd)
