"""Conditional requests (RFC 7232, as S3 applies them) and byte ranges (RFC 7233, one range).

S3's order: If-Match (412 when false; when true, If-Unmodified-Since is not consulted), If-None-Match
(304 on GET/HEAD when an ETag matches; when it does not, If-Modified-Since is not consulted),
If-Modified-Since (304), If-Unmodified-Since (412). Dates compare at whole seconds, as Last-Modified does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from scones.gateway.s3.errors import S3Error, precondition_failed

_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")


class NotModified(Exception):
    """Answer 304 (no body)."""


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    return "*" in wanted or etag in wanted


def check_preconditions(params: Mapping[str, Any], etag: str, mtime: float, *, prefix: str = "") -> None:
    """Raise PreconditionFailed (412) or NotModified (304) as S3 would for ``params``' If-* members.

    ``prefix`` is ``CopySource`` for CopyObject's ``x-amz-copy-source-if-*`` members (a copy answers 412 in
    both failure cases).
    """
    seconds = int(mtime)
    if_match = params.get(f"{prefix}IfMatch")
    if_none_match = params.get(f"{prefix}IfNoneMatch")
    modified_since: datetime | None = params.get(f"{prefix}IfModifiedSince")
    unmodified_since: datetime | None = params.get(f"{prefix}IfUnmodifiedSince")
    not_modified = NotModified() if not prefix else precondition_failed("x-amz-copy-source-If-None-Match")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise precondition_failed("If-Match")
    elif unmodified_since is not None and seconds > unmodified_since.timestamp():
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag):
            raise not_modified
    elif modified_since is not None and seconds <= modified_since.timestamp():
        raise not_modified


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``Range``; None for the whole object (no header, or one S3 ignores);
    InvalidRange (416) when the range cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: S3 answers the whole object
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
        if last_text and last < first:
            return None
        if first >= size:
            raise invalid_range(header, size)
        return first, min(last, size - 1)
    suffix = int(last_text)
    if suffix == 0 or size == 0:
        raise invalid_range(header, size)
    return max(0, size - suffix), size - 1


def invalid_range(header: str, size: int) -> S3Error:
    return S3Error("InvalidRange", "The requested range is not satisfiable", 416, RangeRequested=header,
                   ActualObjectSize=str(size))
