"""JSON text the way Step Functions writes it: compact, non-ASCII kept, sizes in UTF-8 bytes."""

from __future__ import annotations

import json
from typing import Any, Final

#: "The maximum input or output size for a task, state, or execution is 256 KiB of data
#: as a UTF-8 encoded string" (service quotas).
PAYLOAD_LIMIT_BYTES: Final = 262_144

_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def to_compact_json(value: Any) -> str:
    return _ENCODER.encode(value)


def within_payload_limit(value: Any) -> bool:
    text = _ENCODER.encode(value)
    if len(text) * 4 <= PAYLOAD_LIMIT_BYTES:  # cheap: a char is at most 4 UTF-8 bytes
        return True
    return len(text.encode("utf-8")) <= PAYLOAD_LIMIT_BYTES
