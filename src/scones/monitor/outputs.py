"""Where a command's output folder goes: the parent store and the folder's name, published atomically."""

from __future__ import annotations

from typing import Any

from scones.errors import UsageError
from scones.store import Store, is_remote, open_store, split_uri


def open_output(uri: str, *, s3_client: Any | None = None) -> tuple[Store, str]:
    """``(parent store, folder name)`` so that ``parent.publish(name)`` replaces the folder all at once."""
    text = str(uri).rstrip("/")
    if is_remote(text) and text.count("/") < 3:
        raise UsageError(f"Output {uri!r} is a whole bucket", hint="name a folder, e.g. s3://bucket/monitor/report")
    parent, name = split_uri(text.removeprefix("file://") if text.startswith("file://") else text)
    if not name or name in (".", ".."):
        raise UsageError(f"Output {uri!r} names no folder", hint="pass a folder such as ./monitor-report")
    return open_store(parent or ".", s3_client=s3_client), name
