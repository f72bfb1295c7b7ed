"""Values on the AWS wire, shared by the protocols: the error a request that cannot be read gets, timestamps
in the three formats botocore uses (``rfc822`` headers, ``iso8601`` bodies and queries, ``unixTimestamp``),
and scalars (numbers, booleans, blobs) to and from text by their shape's type."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # botocore.model costs a third of a second to import; the JSON protocol does without it
    from botocore.model import Shape


class ProtocolError(Exception):
    """A request the protocol cannot read; carries the AWS error code and HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.status})"


class NoSuchOperation(ProtocolError):
    """No operation of the model matches the request's method, path and parameters."""


def iso8601(moment: datetime | float) -> str:
    """S3's XML timestamps: ``2026-12-08T00:19:33.000Z`` (milliseconds, UTC)."""
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    whole = int(moment)
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{int((moment - whole) * 1000):03d}Z"


def rfc822(moment: datetime | float) -> str:
    """HTTP dates (``Last-Modified``): ``Tue, 08 Dec 2026 00:19:33 GMT``."""
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    return formatdate(int(moment), usegmt=True)


def parse_timestamp(text: str, fmt: str) -> datetime | None:
    """A timestamp in ``fmt`` (``rfc822``, ``iso8601`` or ``unixTimestamp``); None when unreadable (HTTP says:
    ignore a conditional header whose date is invalid)."""
    try:
        if fmt == "rfc822":
            moment = parsedate_to_datetime(text)
        elif fmt == "unixTimestamp":
            return datetime.fromtimestamp(float(text), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_timestamp(value: Any, fmt: str) -> str:
    if isinstance(value, str):
        return value
    if fmt == "rfc822":
        return rfc822(value)
    if fmt == "unixTimestamp":
        return str(int(value.timestamp() if isinstance(value, datetime) else value))
    return iso8601(value)


def scalar_text(shape: Shape, value: Any, default_ts: str) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", default_ts))
    if kind == "blob":
        return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else str(value)
    return str(value)


def scalar_value(shape: Shape, text: str, name: str, default_ts: str) -> Any:
    """Text from the wire as the member's type; ProtocolError when it is not one."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise ProtocolError("InvalidArgument", f"Provided {name} not an integer or within integer range",
                                ArgumentName=name, ArgumentValue=text) from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ProtocolError("InvalidArgument", f"Invalid Argument: {name} must be true or false",
                                ArgumentName=name, ArgumentValue=text)
        return lowered == "true"
    if kind == "timestamp":
        return parse_timestamp(text, shape.serialization.get("timestampFormat", default_ts))
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ProtocolError("InvalidArgument", f"{name} is not valid base64", ArgumentName=name) from None
    return text
