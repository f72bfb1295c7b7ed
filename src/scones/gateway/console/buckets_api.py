"""The local store for the console: buckets, one folder level at a time, previews and downloads.

Keys from the URL go through the store's own checks (``check_key``: no ``..``, no absolute
keys, no NUL or backslash; no symbolic link leading out of the store), as the S3 API's do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from scones.errors import StoreError
from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.errors import BadRequest, NotFound
from scones.gateway.console.images import image_type
from scones.store import STAGING_MARK, LocalStore, check_key

PAGE_SIZE: Final = 200
PREVIEW_BYTES: Final = 64 * 1024
_TEXT_SUFFIXES: Final = (".json", ".jsonl", ".txt", ".lst", ".csv", ".log", ".md", ".yaml", ".yml", ".html")


@dataclass(frozen=True)
class StoredObject:
    key: str
    path: Path
    size: int


def _bucket_dir(ctx: ConsoleContext, bucket: str) -> Path:
    if not bucket or bucket.startswith(".") or "/" in bucket or "\\" in bucket or "\0" in bucket:
        raise NotFound(f"No bucket named {bucket!r}")
    root = os.path.realpath(ctx.store_root)
    path = os.path.realpath(os.path.join(root, bucket))
    if os.path.commonpath([root, path]) != root or not os.path.isdir(path):
        raise NotFound(f"No bucket named {bucket!r}")
    return Path(ctx.store_root) / bucket


def _hidden(name: str) -> bool:
    """Writes in progress and staging folders are not objects (the S3 API lists neither)."""
    return name.startswith(STAGING_MARK) or (name.startswith(".") and name.endswith(".tmp"))


def buckets(ctx: ConsoleContext) -> dict[str, Any]:
    names = []
    if os.path.isdir(ctx.store_root):
        with os.scandir(ctx.store_root) as entries:
            names = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    return {"buckets": [{"name": n} for n in names]}


def _safe(ctx: ConsoleContext, bucket: str, key: str) -> Path:
    store = LocalStore(_bucket_dir(ctx, bucket))
    try:
        path = store.local_path(key)
    except StoreError as exc:
        raise BadRequest(f"Key {key!r} cannot be used: {exc.message}") from exc
    assert path is not None
    return path


def listing(ctx: ConsoleContext, bucket: str, prefix: str = "", after: str | None = None,
            limit: int = PAGE_SIZE) -> dict[str, Any]:
    """One level below ``prefix`` (S3's ``Delimiter=/``): its folders as prefixes, its files as objects."""
    base = _bucket_dir(ctx, bucket)
    try:
        check_key(prefix, allow_empty=True)
    except StoreError as exc:
        raise BadRequest(f"Prefix {prefix!r} cannot be used: {exc.message}") from exc
    folder_key, _, start = prefix.rpartition("/")
    folder = _safe(ctx, bucket, folder_key) if folder_key else base
    lead = f"{folder_key}/" if folder_key else ""
    if not os.path.isdir(folder):  # os.path's tests say False, not OSError, for a name too long to exist
        return {"bucket": bucket, "prefix": prefix, "prefixes": [], "objects": [], "next": None}
    with os.scandir(folder) as found:
        entries = sorted((e for e in found if e.name.startswith(start) and not _hidden(e.name)),
                         key=lambda e: e.name)
    if after:
        entries = [e for e in entries if e.name > after]
    page, more = entries[:limit], len(entries) > limit
    prefixes, objects = [], []
    for entry in page:
        if entry.is_dir():
            prefixes.append(f"{lead}{entry.name}/")
        elif entry.is_file():
            stat = entry.stat()
            objects.append({"key": f"{lead}{entry.name}", "size": stat.st_size, "modified": stat.st_mtime})
    return {"bucket": bucket, "prefix": prefix, "prefixes": prefixes, "objects": objects,
            "next": page[-1].name if more and page else None}


def stored_object(ctx: ConsoleContext, bucket: str, key: str) -> StoredObject:
    if not key or key.endswith("/"):
        raise BadRequest("Name an object (a key that does not end in '/')")
    path = _safe(ctx, bucket, key)
    if not os.path.isfile(path):  # as in listing: a segment past the file system's limit is no object either
        raise NotFound(f"No object {key!r} in bucket {bucket!r}")
    return StoredObject(key, path, path.stat().st_size)


def content_type(obj: StoredObject, head: bytes) -> str:
    """By the bytes for pictures, by the name for text; everything else is a download."""
    media = image_type(head)
    if media is not None:
        return media
    name = obj.key.lower()
    if name.endswith((".json", ".jsonl")):
        return "application/json"
    if name.endswith(".html"):
        return "text/html; charset=utf-8"
    if name.endswith(_TEXT_SUFFIXES):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def preview(ctx: ConsoleContext, bucket: str, key: str) -> dict[str, Any]:
    """What the console shows of an object: a picture, JSON or text (the first 64 KiB), or only its size."""
    obj = stored_object(ctx, bucket, key)
    with open(obj.path, "rb") as f:
        head = f.read(PREVIEW_BYTES)
    media = content_type(obj, head)
    out: dict[str, Any] = {"bucket": bucket, "key": key, "size": obj.size, "contentType": media,
                           "truncated": obj.size > len(head)}
    if media.startswith("image/"):
        out["kind"] = "image"
    elif media == "application/json" or media.startswith("text/") or _looks_like_text(head):
        out["kind"] = "json" if media == "application/json" else "text"
        out["text"] = head.decode("utf-8", errors="replace")
    else:
        out["kind"] = "binary"
    return out


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head[:4096]:
        return False
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 4090  # a character cut at the end of the sample
    return True
