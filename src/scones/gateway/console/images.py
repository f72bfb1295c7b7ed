"""Images inside user data: what kind of picture some bytes are, and where an execution's image is."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, Final

#: Magic numbers of the picture formats a browser shows in an ``<img>``; anything else is not an image here.
_MAGIC: Final = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
                 (b"GIF89a", "image/gif"))
#: ``image_data`` larger than this is not embedded in an answer (a link to the object is).
MAX_INLINE_BYTES: Final = 2 * 1024 * 1024


def image_type(data: bytes) -> str | None:
    """``image/png``… by the bytes' magic number (never by a name or a declared type), else None."""
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def inline_image(text: Any) -> dict[str, str] | None:
    """``{"type", "base64"}`` when ``text`` is base64 of a picture, else None."""
    if not isinstance(text, str) or len(text) > MAX_INLINE_BYTES * 4 // 3 + 4:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    media = image_type(data)
    if media is None:
        return None
    return {"type": media, "base64": base64.b64encode(data).decode("ascii")}


def find_image_data(value: Any, depth: int = 6) -> dict[str, str] | None:
    """The first ``image_data`` member (base64 of a picture) anywhere in a JSON value, searched breadth-first."""
    level = [value]
    for _ in range(depth):
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, Mapping):
                found = inline_image(item.get("image_data"))
                if found is not None:
                    return found
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item[:100])
        level = nxt
    return None


def s3_reference(value: Any) -> tuple[str, str] | None:
    """``(s3_bucket, s3_key)`` of an execution input such as the Scones workflow's."""
    if isinstance(value, Mapping):
        bucket, key = value.get("s3_bucket"), value.get("s3_key")
        if isinstance(bucket, str) and isinstance(key, str) and bucket and key:
            return bucket, key
    return None


def parse_json_text(text: Any) -> Any:
    """An event's JSON text as a value (None when it is no JSON)."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
