"""Keys in S3's order, straight from the folders: ListObjects, ListObjectsV2 and ListObjectVersions.

S3 lists keys in UTF-8 byte order (code point order for Python strings). A depth-first walk yields exactly
that order when each folder's entries are sorted by name, with ``/`` appended to folder names: every key
below ``a/`` starts with ``a/``, so ``a-c`` (``-`` < ``/``) comes before them and ``a0`` after. The walk is
lazy and skips whole folders that lie before the ``start-after``/continuation point or inside a common
prefix already reported, so a page costs about its own size, not the bucket's.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from scones.gateway.s3.errors import S3Error
from scones.gateway.s3.layout import Layout, check_key, is_partial
from scones.gateway.s3.metadata import ObjectMeta
from scones.gateway.s3.storage import OpenObject, Storage, guess_content_type
from scones.store import STAGING_MARK

MAX_KEYS: Final = 1000


@dataclass
class Entry:
    key: str
    st: os.stat_result | None  # None for a folder marker (a folder)
    path: str


class KeyWalk:
    """The keys of one bucket below ``prefix`` and after ``after``, in order. ``skip`` (a key prefix) can be
    set while iterating: folders whose keys all start with it are not entered."""

    def __init__(self, layout: Layout, bucket: str, bucket_dir: Path, prefix: str, after: str,
                 markers: set[str]) -> None:
        self.layout = layout
        self.bucket = bucket
        self.bucket_dir = bucket_dir
        self.prefix = prefix
        self.after = after
        self.markers = markers
        self.skip: str | None = None

    def __iter__(self) -> Iterator[Entry]:
        folder = self.prefix.rpartition("/")[0]
        start = self.bucket_dir
        if folder:
            # Walk from the deepest folder the prefix names, if it can name one: a prefix whose folder
            # part no key could have ("../", "/etc/", "a//b/") matches nothing, and a folder reached
            # through a link out of the store is not entered.
            try:
                check_key(folder + "/")
                start = self.layout.object_path(self.bucket, folder)
            except S3Error:
                return
        base = f"{folder}/" if folder else ""
        if base and base in self.markers and base > self.after and base.startswith(self.prefix):
            yield Entry(base, None, str(start))
        yield from self._walk(str(start), base)

    def _wanted_folder(self, key: str) -> bool:
        """Whether any key below folder ``key`` (ending in '/') can be listed."""
        if not (key.startswith(self.prefix) or self.prefix.startswith(key)):
            return False
        if self.after > key and not self.after.startswith(key):
            return False  # everything below sorts before the start point
        return not (self.skip is not None and key.startswith(self.skip))

    def _walk(self, folder: str, base: str) -> Iterator[Entry]:
        try:
            with os.scandir(folder) as it:
                entries = []
                for entry in it:
                    name = entry.name
                    if is_partial(name) or name.startswith(STAGING_MARK):
                        continue
                    try:
                        if entry.is_symlink():
                            real = os.path.realpath(entry.path)
                            # A link out of the store is no object; linked folders are not entered (no cycles).
                            if not self.layout.inside(real) or os.path.isdir(real):
                                continue
                            is_dir = False
                        else:
                            is_dir = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        continue
                    entries.append((name + "/" if is_dir else name, name, is_dir, entry))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        entries.sort(key=lambda e: e[0])
        for sort_name, _, is_dir, entry in entries:
            key = base + sort_name
            if is_dir:
                if not self._wanted_folder(key):
                    continue
                if key in self.markers and key > self.after and key.startswith(self.prefix):
                    yield Entry(key, None, entry.path)
                yield from self._walk(entry.path, key)
            elif key > self.after and key.startswith(self.prefix):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                yield Entry(key, st, entry.path)


@dataclass
class Page:
    entries: list[tuple[Entry, ObjectMeta]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix of the page


def list_page(storage: Storage, bucket: str, bucket_dir: Path, *, prefix: str, delimiter: str, after: str,
              max_keys: int) -> Page:
    """One page of keys and common prefixes (blocking: runs in a worker thread)."""
    if max_keys == 0:
        return Page()  # S3 answers max-keys=0 with an empty, untruncated page
    markers = storage.meta.markers(bucket, prefix.rpartition("/")[0])
    walk = KeyWalk(storage.layout, bucket, bucket_dir, prefix, after, markers)
    page = Page()
    if is_common_prefix(after, prefix, delimiter):
        walk.skip = after  # resuming after a common prefix: skip all it stood for
    count = 0
    for entry in walk:
        common = None
        if delimiter:
            cut = entry.key.find(delimiter, len(prefix))
            if cut >= 0:
                common = entry.key[:cut + len(delimiter)]
                if page.prefixes and page.prefixes[-1] == common:
                    continue
        if count >= max_keys:
            page.truncated = True
            break
        count += 1
        if common is not None:
            page.prefixes.append(common)
            page.last = common
            walk.skip = common
        else:
            page.entries.append((entry, describe(storage, bucket, entry)))
            page.last = entry.key
    return page


def is_common_prefix(marker: str, prefix: str, delimiter: str) -> bool:
    """Whether a marker (the last entry of the previous page) is a common prefix of this listing: then
    every key that starts with it was rolled up into it already."""
    return bool(delimiter) and marker.endswith(delimiter) and marker.startswith(prefix) \
        and marker[len(prefix):].find(delimiter) == len(marker) - len(prefix) - len(delimiter)


def describe(storage: Storage, bucket: str, entry: Entry) -> ObjectMeta:
    meta = storage.meta.get(bucket, entry.key)
    if entry.st is None:
        return meta or ObjectMeta(0, 0, 0, "d41d8cd98f00b204e9800998ecf8427e")
    if meta is not None and meta.matches(entry.st):
        return meta
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ObjectMeta(entry.st.st_size, entry.st.st_mtime_ns, entry.st.st_ino, "", guess_content_type(entry.key))
    try:
        return storage.derive(bucket, entry.key, OpenObject(fd, os.fstat(fd), None))
    finally:
        os.close(fd)


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogatepass")).decode("ascii")


def decode_token(token: str) -> str:
    try:
        key = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8")
        if key:
            return key
    except (binascii.Error, ValueError, UnicodeError):
        pass
    raise S3Error("InvalidArgument", "The continuation token provided is incorrect", 400,
                  ArgumentName="continuation-token", ArgumentValue=token)


def url(text: str | None, encode: bool) -> str | None:
    return quote(text, safe="/") if encode and text is not None else text


def contents(page: Page, *, encode: bool, owner: dict[str, str] | None) -> list[dict[str, Any]]:
    out = []
    for entry, meta in page.entries:
        item: dict[str, Any] = {
            "Key": url(entry.key, encode),
            "LastModified": entry.st.st_mtime if entry.st is not None else meta.mtime_ns / 1e9,
            "ETag": f'"{meta.etag}"',
            "Size": entry.st.st_size if entry.st is not None else 0,
            "StorageClass": "STANDARD",
        }
        if meta.checksum_algorithm:
            item["ChecksumAlgorithm"] = [meta.checksum_algorithm]
            item["ChecksumType"] = meta.checksum_type or "FULL_OBJECT"
        if owner is not None:
            item["Owner"] = owner
        out.append(item)
    return out
