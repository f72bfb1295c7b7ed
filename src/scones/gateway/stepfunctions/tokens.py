"""``nextToken`` values: opaque to clients, a small JSON position inside (a list's last name, an offset)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

from scones.gateway.stepfunctions.errors import InvalidToken

#: "The default is 100 and the maximum allowed page size is 1000. A value of 0 uses the default."
DEFAULT_PAGE: Final = 100


def page_size(max_results: int | None) -> int:
    return max_results or DEFAULT_PAGE


def encode(kind: str, position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([kind, position]).encode("utf-8")).decode("ascii")


def decode(token: str, kind: str) -> Any:
    """The position a token of ``kind`` holds; ``InvalidToken`` for anything this endpoint did not hand out."""
    try:
        found_kind, position = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
        raise InvalidToken.of(token) from exc
    if found_kind != kind:
        raise InvalidToken.of(token)
    return position


def offset(token: str | None, kind: str, bound: int) -> int:
    """A list offset from a token (0 without one)."""
    if token is None:
        return 0
    position = decode(token, kind)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= bound:
        raise InvalidToken.of(token)
    return position

