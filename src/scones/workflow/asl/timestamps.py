"""ISO-8601 timestamps as the States Language accepts them (Wait ``Timestamp``, ``Timestamp*`` comparisons)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

#: RFC 3339 with a mandatory offset ("extended offset date-time").
_TIMESTAMP: Final = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: Any) -> datetime | None:
    """Parse an ISO-8601 extended offset date-time; None when it is not one."""
    if not isinstance(text, str):
        return None
    m = _TIMESTAMP.match(text)
    if not m:
        return None
    frac = m.group(7) or ""
    base = text[:19] + (frac[:7] if frac else "") + ("+00:00" if m.group(8) == "Z" else m.group(8))
    try:
        return datetime.fromisoformat(base)
    except ValueError:
        return None
