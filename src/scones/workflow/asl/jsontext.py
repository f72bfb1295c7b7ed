"""JSON text the way Step Functions writes it: compact, non-ASCII kept, sizes in UTF-8 bytes.

Encoding happens on every transition (the payload quota check) and for every
history value, mostly of small objects, where ``JSONEncoder.encode`` spends
more time building its C encoder than encoding. The C encoder is built once
here; without circular-reference markers it keeps no state between calls, so
threads may share it (the interpreter's values come from JSON and cannot be
circular).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any, Final

#: "The maximum input or output size for a task, state, or execution is 256 KiB of data
#: as a UTF-8 encoded string" (service quotas).
PAYLOAD_LIMIT_BYTES: Final = 262_144

_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _one_shot_encoder() -> Callable[[Any], str]:
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the standard (slower) path
        return _ENCODER.encode
    iterencode = make(None, _ENCODER.default, _json_encoder.encode_basestring, None, ":", ",", False, False, False)
    join = "".join

    def encode(value: Any) -> str:
        return join(iterencode(value, 0))

    return encode


#: ``to_compact_json`` (same text as ``_ENCODER.encode``; NaN/Infinity raise ValueError).
_encode: Final = _one_shot_encoder()

#: A JSON text as a JSON string literal (for documents that embed JSON text, like the history).
quote: Final[Callable[[str], str]] = _json_encoder.encode_basestring


def to_compact_json(value: Any) -> str:
    return _encode(value)


def fits_payload_limit(text: str) -> bool:
    if len(text) * 4 <= PAYLOAD_LIMIT_BYTES:  # cheap: a char is at most 4 UTF-8 bytes
        return True
    return len(text.encode("utf-8")) <= PAYLOAD_LIMIT_BYTES


def within_payload_limit(value: Any) -> bool:
    return fits_payload_limit(_encode(value))


def json_type_name(value: Any) -> str:
    """The JSON type of a value, as AWS names it in type-mismatch messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
