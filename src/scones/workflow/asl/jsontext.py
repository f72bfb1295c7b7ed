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
import math
import re
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


#: Deepest nesting of arrays and objects accepted in JSON text read from outside (definitions,
#: inputs, intrinsic arguments, histories). Python's parser and the interpreter recurse per
#: level; beyond this they would hit the interpreter's recursion limit instead of answering.
MAX_NESTING: Final = 400


class JsonTextError(ValueError):
    """JSON text that is malformed, or valid but outside what Step Functions accepts."""


def _reject_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonTextError(f"the number {text[:40]} is out of range for a double")
    return value


def parse_json(text: str | bytes, *, max_nesting: int | None = MAX_NESTING) -> Any:
    """``json.loads`` without Python's extensions: NaN, Infinity and numbers beyond a double are
    errors (Python would accept them and fail later, when writing them back as JSON), and so is
    nesting deeper than ``max_nesting`` (None: no limit beyond the parser's own), and so are lone
    UTF-16 surrogates (``"\\ud800"``), which no UTF-8 text can hold. Every failure is a
    ``JsonTextError`` with a one-line reason."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise JsonTextError(f"arrays and objects are nested more than {max_nesting or MAX_NESTING} levels "
                            "deep") from exc
    except JsonTextError:
        raise
    except ValueError as exc:  # e.g. an integer literal longer than Python's 4300-digit limit
        raise JsonTextError(str(exc)) from exc
    depth = _checked_depth(value)
    if max_nesting is not None and depth > max_nesting:
        raise JsonTextError(f"arrays and objects are nested more than {max_nesting} levels deep")
    return value


def _check_text(text: str) -> None:
    if not text.isascii() and _SURROGATE.search(text):  # isascii is O(1): most strings skip the scan
        raise JsonTextError(f"the string {text[:40]!r} holds a lone UTF-16 surrogate, which UTF-8 cannot encode")


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _checked_depth(value: Any) -> int:
    """How many arrays/objects deep a parsed value goes (a scalar is 0), iteratively, so any depth is
    safe; one walk over the value also refuses strings and keys holding a lone surrogate."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
            for key in node:
                _check_text(key)
        elif isinstance(node, list):
            children = node
        else:
            if isinstance(node, str):
                _check_text(node)
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest
