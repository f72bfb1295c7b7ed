"""Object store used by every step: a local directory that mirrors S3, or S3 itself.

One abstract base does the shared work (key checks, URI handling, error
wrapping) and each backend implements a handful of small ``_`` methods, the way
powertools' ``BaseProvider`` does. A ``Store`` is bound to a base location (a
directory, or an S3 bucket and prefix) and takes keys relative to it, so the
same step code writes ``train/x.png`` locally or to ``s3://bucket/prefix/train/x.png``.

Layout of the local backend: ``<root>/<bucket>/<key>``, exactly the S3 key
layout, so that ``aws s3 sync`` between the two is a plain copy.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import stat
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlparse

from scones.errors import NotFoundError, StoreError, UnsafeKeyError

if TYPE_CHECKING:
    pass  # pragma: no cover

LOG = logging.getLogger(__name__)

STAGING_MARK: Final = ".scones-staging-"


def check_key(key: str, *, allow_empty: bool = False) -> str:
    """Return ``key`` normalised (no leading/trailing ``/`` doubling), or refuse it.

    A key may never climb out of the store's base: ``..`` segments, absolute
    keys, NUL bytes and backslashes (which would be separators on Windows) are refused.
    """
    if not isinstance(key, str):
        raise UnsafeKeyError(f"Store keys are strings, got {type(key).__name__}")
    if "\x00" in key:
        raise UnsafeKeyError(f"Key {key!r} contains a NUL byte", hint="use a plain relative key such as 'train/x.png'")
    if "\\" in key:
        raise UnsafeKeyError(f"Key {key!r} contains a backslash", hint="use '/' to separate key parts")
    if key.startswith("/"):
        raise UnsafeKeyError(f"Key {key!r} is absolute", hint="keys are relative to the store, e.g. 'train/x.png'")
    parts = [p for p in key.split("/") if p != ""]
    if any(p in (".", "..") for p in parts):
        raise UnsafeKeyError(f"Key {key!r} has a '.' or '..' part and could escape the store")
    if not parts and not allow_empty:
        raise UnsafeKeyError("An empty key names no object")
    normalised = "/".join(parts)
    if key.endswith("/") and normalised:
        normalised += "/"
    return normalised


def join_key(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class Store(ABC):
    """Bytes and files under keys, listing by prefix, and atomic publication of a prefix."""

    @property
    @abstractmethod
    def uri(self) -> str:
        """The URI of the base location (``file:///...`` or ``s3://bucket/prefix``)."""

    # -- backend hooks -------------------------------------------------
    @abstractmethod
    def _put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def _put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def _list(self, prefix: str) -> Iterator[str]: ...

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def child(self, prefix: str) -> Store:
        """A store whose base is ``prefix`` below this one."""

    @abstractmethod
    def _commit(self, staging: Store, prefix: str) -> None:
        """Make the content of ``staging`` the content of ``prefix``, replacing it."""

    # -- public API ----------------------------------------------------
    def uri_for(self, key: str) -> str:
        key = check_key(key, allow_empty=True)
        if not key:
            return self.uri
        return f"{self.uri}{key}" if self.uri.endswith("/") else f"{self.uri}/{key}"

    def put_bytes(self, key: str, data: bytes) -> None:
        self._put_bytes(check_key(key), bytes(data))

    def get_bytes(self, key: str) -> bytes:
        return self._get_bytes(check_key(key))

    def put_text(self, key: str, text: str) -> None:
        self.put_bytes(key, text.encode("utf-8"))

    def get_text(self, key: str) -> str:
        data = self.get_bytes(key)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(f"{self.uri_for(key)} is not UTF-8 text") from exc

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        src = Path(path)
        if not src.is_file():
            raise NotFoundError(f"No file to upload at {src}")
        self._put_file(check_key(key), src)

    def get_file(self, key: str, path: str | os.PathLike[str]) -> Path:
        """Copy the object to ``path``, atomically (temporary name, then rename)."""
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = self.get_bytes(key)
        atomic_write_bytes(dest, data)
        return dest

    def list(self, prefix: str = "") -> list[str]:
        """Keys below ``prefix``, relative to this store's base, sorted."""
        return sorted(self._list(check_key(prefix, allow_empty=True)))

    def exists(self, key: str) -> bool:
        return self._exists(check_key(key))

    def delete(self, key: str) -> None:
        self._delete(check_key(key))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for key in keys:
            self._delete(key)
        return len(keys)

    def local_path(self, key: str) -> Path | None:
        """The file behind ``key`` when the store is local (a fast path for readers), else None."""
        return None

    @contextlib.contextmanager
    def publish(self, prefix: str = "", *, replaces: Collection[str] | None = None) -> Iterator[Store]:
        """Write a whole prefix all-or-nothing.

        Yields a staging store; everything written to it appears under
        ``prefix`` together when the block exits normally, replacing what was
        there. If the block raises, the staging area is removed and ``prefix``
        is left exactly as it was. ``prefix=""`` publishes this store's whole base.
        With ``replaces`` (see ``check_replaceable``), a prefix holding anything
        else is refused before anything is written.
        """
        prefix = check_key(prefix, allow_empty=True).rstrip("/")
        if replaces is not None:
            self.check_replaceable(prefix, replaces)
        staging = self._new_staging(prefix)
        try:
            yield staging
        except StoreError as exc:
            self._discard(staging)
            # The user chose the output, not the hidden staging area beside it: name the former.
            message = exc.message
            for hidden, chosen in self._staging_names(staging, prefix):
                message = message.replace(hidden, chosen)
            raise StoreError(message, hint=exc.hint) from exc
        except BaseException:
            self._discard(staging)
            raise
        try:
            self._commit(staging, prefix)
        finally:
            self._discard(staging)

    def check_replaceable(self, prefix: str, replaces: Collection[str]) -> None:
        """Refuse an output folder that holds anything but an earlier output of the same kind.

        ``replaces`` names the files such an output consists of (a name ending in ``/`` stands
        for a whole sub-folder). Publishing replaces a folder whole, so without this check an
        ``--out`` pointing at the wrong folder (the dataset, the capture data, a home folder)
        would delete what it held.
        """
        prefix = check_key(prefix, allow_empty=True).rstrip("/")
        where = self.uri_for(prefix)
        others = []
        for name in self._occupants(prefix):
            if name is None:
                raise StoreError(f"Output {where} exists and is not a folder", hint="choose another output folder")
            if name not in replaces and not any(r.endswith("/") and name.startswith(r) for r in replaces):
                others.append(name)
        if others:
            raise StoreError(f"Output {where} already holds files that are not this command's output "
                             f"(e.g. {others[0]!r}); refusing to replace them",
                             hint="choose a new or empty folder, or remove what is there first")

    def _occupants(self, prefix: str) -> Iterator[str | None]:
        """Names below ``prefix`` (relative to it); ``None`` when ``prefix`` itself is a file."""
        base = f"{prefix}/" if prefix else ""
        for key in self.list(base):
            yield key[len(base):]

    def _staging_names(self, staging: Store, prefix: str) -> Sequence[tuple[str, str]]:
        """How the staging area and the output it becomes are spelled in messages (hidden, chosen)."""
        return [(staging.uri, self.uri_for(prefix))]

    def _new_staging(self, prefix: str) -> Store:
        """A fresh, hidden staging area beside ``prefix`` (listings skip it)."""
        return self.child(join_key(prefix.rpartition("/")[0], f"{STAGING_MARK}{uuid.uuid4().hex}"))

    def _discard(self, staging: Store) -> None:
        try:
            staging.delete_prefix("")
        except StoreError:  # pragma: no cover - best effort cleanup of our own temp area
            LOG.warning("could not remove staging area %s", staging.uri)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once, at import, before any threads write files.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of the files the store writes: what an ordinary open() would give (0666 less the umask).
FILE_MODE: Final = 0o666 & ~_read_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the mode an ordinary open() would (0666 less the umask).
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _partial_write(name: str) -> bool:
    """``atomic_write_bytes``'s temporary file: a write in progress (or interrupted), not content."""
    return name.startswith(".") and name.endswith(".tmp")


def check_file_writable(path: Path) -> None:
    """Fail now, not after minutes of uploads, when ``atomic_write_bytes(path, ...)`` could not succeed:
    the folder must exist or be creatable and take a temporary file, and ``path`` must not be a folder."""
    if path.is_dir():
        raise StoreError(f"Cannot write {path}: it is a folder", hint="name a file, e.g. ./stack.json")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise StoreError(f"Cannot write {path}: {blocker} is a file, not a folder", hint="choose another path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _write_error(path, exc) from exc


def _write_error(path: Path, exc: OSError) -> StoreError:
    """A local write that failed (missing or read-only folder, a file where a folder should be, a
    full disk), said in one line with the path the user chose."""
    return StoreError(f"Cannot write {path}: {exc.strerror or exc}",
                      hint="choose a folder that exists (or can be created) and is writable")


class LocalStore(Store):
    """A directory whose files are the objects: ``<base>/<key>``.

    ``LocalStore.in_bucket(root, bucket, prefix)`` gives the S3-mirroring
    layout ``<root>/<bucket>/<prefix>/<key>``.
    """

    def __init__(self, base: str | os.PathLike[str]) -> None:
        self.base = Path(base).expanduser().absolute()
        if self.base.exists() and not self.base.is_dir():
            raise StoreError(f"Store location {self.base} exists and is not a directory",
                             hint="point the URI at a folder (or at a path that does not exist yet)")

    @classmethod
    def in_bucket(cls, root: str | os.PathLike[str], bucket: str, prefix: str = "") -> LocalStore:
        check_key(bucket)
        if "/" in bucket.strip("/"):
            raise UnsafeKeyError(f"Bucket name {bucket!r} contains '/'")
        return cls(Path(root) / bucket / check_key(prefix, allow_empty=True))

    @property
    def uri(self) -> str:
        return self.base.as_uri()

    def _path(self, key: str) -> Path:
        # Keys never hold '..' (check_key), so only a symbolic link inside the
        # store can lead out of it: look at each key part below the base
        # (one lstat each) and resolve only the links.
        real_base = os.path.realpath(self.base)
        current = real_base
        for part in key.split("/"):
            if not part:
                continue
            current = os.path.join(current, part)
            if os.path.islink(current):
                current = os.path.realpath(current)
                if os.path.commonpath([real_base, current]) != real_base:
                    raise UnsafeKeyError(f"Key {key!r} resolves outside the store ({current})",
                                         hint="remove the symbolic link that points out of the store")
        return self.base / key

    def local_path(self, key: str) -> Path | None:
        return self._path(check_key(key))

    def _put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            raise _write_error(path, exc) from exc

    def _get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            # Non-blocking open: a FIFO or device under the store must not hang the reader.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError(f"No object {self.uri_for(key)}") from exc
        except PermissionError as exc:
            raise StoreError(f"Cannot read {path}: permission denied") from exc
        except OSError as exc:  # e.g. a key too long for this file system (S3: 1024 bytes; docs/aws-facts.md, S3)
            if exc.errno == errno.ENAMETOOLONG:
                raise NotFoundError(f"No object {self.uri_for(key)} (the key is too long for a local file)") from exc
            raise StoreError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFoundError(f"No object {self.uri_for(key)} ({path} is not a regular file)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as file:
            return file.read()

    def _put_file(self, key: str, path: Path) -> None:
        dest = self._path(key)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        except OSError as exc:
            raise _write_error(dest, exc) from exc
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise _write_error(dest, exc) from exc
            raise

    def _list(self, prefix: str) -> Iterator[str]:
        if not self.base.is_dir():
            return
        # Walk only the deepest folder the prefix names, then filter by the rest.
        folder, _, _ = prefix.rpartition("/")
        start = self._path(folder) if folder else self.base
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(STAGING_MARK)]
            rel_dir = os.path.relpath(dirpath, self.base)
            for name in filenames:
                if _partial_write(name):
                    continue
                key = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
                if key.startswith(prefix):
                    yield key

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def child(self, prefix: str) -> LocalStore:
        prefix = check_key(prefix, allow_empty=True)
        if prefix:
            self._path(prefix)
        return LocalStore(self.base / prefix)

    def _new_staging(self, prefix: str) -> Store:
        if prefix:
            return super()._new_staging(prefix)
        # The whole base is replaced: stage beside it, on the same file system.
        if self.base.parent == self.base:
            raise StoreError(f"Cannot publish the file system root {self.base}", hint="publish into a folder")
        return LocalStore(self.base.parent / f"{STAGING_MARK}{uuid.uuid4().hex}")

    def _staging_names(self, staging: Store, prefix: str) -> list[tuple[str, str]]:
        assert isinstance(staging, LocalStore)
        target = self._path(prefix) if prefix else self.base
        return [*super()._staging_names(staging, prefix), (str(staging.base), str(target))]

    def _occupants(self, prefix: str) -> Iterator[str | None]:
        # Everything counts here, hidden files and empty folders too (``list`` skips those).
        target = self._path(prefix) if prefix else self.base
        if not target.exists() and not target.is_symlink():
            return
        if target.is_symlink():
            raise StoreError(f"Output {target} is a symbolic link; it would be replaced by a folder, not followed",
                             hint=f"pass the folder it points to ({os.path.realpath(target)}) instead")
        if not target.is_dir():
            yield None
            return
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = [d for d in dirnames if not d.startswith(STAGING_MARK)]
            rel = os.path.relpath(dirpath, target)
            stem = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            if stem and not dirnames and not filenames:
                yield stem  # an empty folder
            for name in filenames:
                if not _partial_write(name):
                    yield stem + name

    def _commit(self, staging: Store, prefix: str) -> None:
        assert isinstance(staging, LocalStore)
        target = self._path(prefix) if prefix else self.base
        try:
            staging.base.mkdir(parents=True, exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot publish {target}: {exc}") from exc
        trash = target.parent / f"{STAGING_MARK}old-{uuid.uuid4().hex}"
        # Two renames: the old content moves aside, the new one moves in. If
        # the second fails, the first is undone, so readers see old or new.
        try:
            if target.exists() or target.is_symlink():
                os.replace(target, trash)
            try:
                os.replace(staging.base, target)
            except BaseException:
                if trash.exists():
                    os.replace(trash, target)
                raise
        except OSError as exc:
            raise StoreError(f"Cannot publish {target}: {exc}",
                             hint="check that nothing else is writing there and that the disk is not full") from exc
        shutil.rmtree(trash, ignore_errors=True)

    def _discard(self, staging: Store) -> None:
        assert isinstance(staging, LocalStore)
        shutil.rmtree(staging.base, ignore_errors=True)


class S3Store(Store):
    """Objects under ``s3://bucket/prefix`` through a boto3 client (built only when none is given)."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any | None = None,
                 session: Any | None = None) -> None:
        if not bucket or "/" in bucket:
            raise StoreError(f"Not a bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = check_key(prefix, allow_empty=True).strip("/")
        if client is None:
            import boto3

            client = (session or boto3.session.Session()).client("s3")
        self.client = client

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _full(self, key: str) -> str:
        return join_key(self.prefix, key) + ("/" if key.endswith("/") else "")

    def _wrap(self, exc: BaseException, key: str, action: str) -> StoreError:
        # boto3's transfer manager wraps the ClientError (S3UploadFailedError):
        # look through the chain for the first error that carries a response.
        code = ""
        seen: BaseException | None = exc
        while seen is not None:
            response = getattr(seen, "response", None)
            if isinstance(response, dict):
                code = str(response.get("Error", {}).get("Code", ""))
                break
            seen = seen.__cause__ or seen.__context__
        where = f"s3://{self.bucket}/{self._full(key)}"
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFoundError(f"No object {where}")
        if code == "NoSuchBucket":
            return NotFoundError(f"Bucket {self.bucket!r} does not exist",
                                 hint=f"create it (aws s3 mb s3://{self.bucket}) or pass another bucket")
        return StoreError(f"Could not {action} {where}: {exc}")

    def _put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)
        except Exception as exc:  # botocore errors are wrapped into our family
            raise self._wrap(exc, key, "write") from exc

    def _get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"].read()
        except Exception as exc:
            raise self._wrap(exc, key, "read") from exc

    def _put_file(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._full(key))
        except Exception as exc:
            raise self._wrap(exc, key, "upload to") from exc

    def _list(self, prefix: str) -> Iterator[str]:
        full = join_key(self.prefix, prefix)
        if prefix.endswith("/") or (not prefix and self.prefix):
            full += "/"
        base_len = len(self.prefix) + 1 if self.prefix else 0
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    key = obj["Key"][base_len:]
                    if STAGING_MARK not in key:
                        yield key
        except Exception as exc:
            raise self._wrap(exc, prefix, "list") from exc

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
            return True
        except Exception as exc:
            err = self._wrap(exc, key, "check")
            if isinstance(err, NotFoundError) and "Bucket" not in err.message:
                return False
            raise err from exc

    def _delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))
        except Exception as exc:
            raise self._wrap(exc, key, "delete") from exc

    def child(self, prefix: str) -> S3Store:
        return S3Store(self.bucket, join_key(self.prefix, check_key(prefix, allow_empty=True)), client=self.client)

    def _commit(self, staging: Store, prefix: str) -> None:
        # S3 has no rename (docs/aws-facts.md, S3): copy the staged objects into place, then drop keys
        # the new version no longer has. Readers see old or new objects per
        # key; objects in sub-folders are copied before top-level ones, so a
        # top-level manifest (dataset.json, *.lst) never appears before its data.
        assert isinstance(staging, S3Store)
        target = self.child(prefix)
        new_keys = sorted(staging.list(), key=lambda k: ("/" not in k, k))
        for key in new_keys:
            try:
                self.client.copy_object(Bucket=self.bucket, Key=target._full(key),
                                        CopySource={"Bucket": self.bucket, "Key": staging._full(key)})
            except Exception as exc:
                raise self._wrap(exc, key, "publish") from exc
        keep = set(new_keys)
        for key in target.list():
            if key not in keep:
                target._delete(key)


def open_store(uri: str | os.PathLike[str], *, s3_client: Any | None = None) -> Store:
    """Open the store a URI names: a plain path, ``file://...`` or ``s3://bucket/prefix``."""
    text = os.fspath(uri)
    if "\x00" in text:
        raise UnsafeKeyError("Store URI contains a NUL byte")
    parsed = urlparse(text)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StoreError(f"S3 URI {text!r} names no bucket", hint="write it as s3://bucket/prefix")
        return S3Store(parsed.netloc, unquote(parsed.path).lstrip("/"), client=s3_client)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StoreError(f"file URI {text!r} names a remote host", hint="use file:///absolute/path")
        if not parsed.path:
            raise StoreError(f"file URI {text!r} names no path", hint="use file:///absolute/path")
        return LocalStore(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise StoreError(f"Unsupported store URI {text!r}",
                         hint="use a folder path, file:///path or s3://bucket/prefix")
    return LocalStore(text)


def is_remote(uri: str) -> bool:
    return urlparse(os.fspath(uri)).scheme == "s3"


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://b/a/k`` -> ``("s3://b/a", "k")``: the parent location and the last key part."""
    text = uri.rstrip("/")
    scheme, sep, rest = text.partition("://")
    if sep and "/" not in scheme:  # any scheme: keep its '//' (PurePosixPath would fold it to one '/')
        parent, _, name = rest.rpartition("/")
        return (f"{scheme}://{parent}" if parent else f"{scheme}://"), name
    path = PurePosixPath(text)
    return str(path.parent), path.name
