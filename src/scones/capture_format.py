"""SageMaker Data Capture: the one place that builds and parses its JSONL records and S3 keys.

The endpoint writes with it and the monitor reads with it, so the two can never
disagree on the shape. Byte-for-byte rules (docs/aws-facts.md, Data Capture): compact JSON,
key order ``captureData``, ``eventMetadata``, ``eventVersion``; inside a side
``observedContentType``, ``mode``, ``data``, ``encoding``; every line ends in ``\\n``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

EVENT_VERSION: Final = "0"
DEFAULT_CSV_TYPES: Final = ("text/csv",)
DEFAULT_JSON_TYPES: Final = ("application/json",)

#: ``<MM>-<SS>-<mmm>-<uuid4>.jsonl`` under ``<endpoint>/<variant>/yyyy/mm/dd/hh/``.
KEY_PATTERN: Final = re.compile(
    r"(?:^|/)(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/"
    r"(?P<mi>\d{2})-(?P<s>\d{2})-(?P<ms>\d{3})-(?P<uuid>[0-9a-fA-F-]{36})\.jsonl$"
)


class Encoding(str, Enum):
    CSV = "CSV"
    JSON = "JSON"
    BASE64 = "BASE64"


class Mode(str, Enum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class CaptureFormatError(ValueError):
    """A line or key that is not in SageMaker's Data Capture format (readers count these)."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def choose_encoding(content_type: str | None, csv_types: Sequence[str] = DEFAULT_CSV_TYPES,
                    json_types: Sequence[str] = DEFAULT_JSON_TYPES) -> Encoding:
    """CSV or JSON when the media type is listed (parameters ignored, as SageMaker does), else BASE64."""
    media = media_type(content_type)
    if media and media in {media_type(t) for t in csv_types}:
        return Encoding.CSV
    if media and media in {media_type(t) for t in json_types}:
        return Encoding.JSON
    return Encoding.BASE64


@dataclass(frozen=True)
class CaptureSide:
    observed_content_type: str
    mode: Mode
    data: str
    encoding: Encoding

    @classmethod
    def from_payload(cls, payload: bytes, content_type: str | None, mode: Mode, *,
                     csv_types: Sequence[str] = DEFAULT_CSV_TYPES,
                     json_types: Sequence[str] = DEFAULT_JSON_TYPES) -> CaptureSide:
        encoding = choose_encoding(content_type, csv_types, json_types)
        if encoding is not Encoding.BASE64:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                encoding, text = Encoding.BASE64, base64.b64encode(payload).decode("ascii")
        else:
            text = base64.b64encode(payload).decode("ascii")
        return cls(content_type or "", mode, text, encoding)

    def payload(self) -> bytes:
        """The captured bytes, decoded from their encoding."""
        if self.encoding is Encoding.BASE64:
            try:
                return base64.b64decode(self.data, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise CaptureFormatError(f"{self.mode.value} data is not valid base64") from exc
        return self.data.encode("utf-8")

    def to_dict(self) -> dict[str, str]:
        return {"observedContentType": self.observed_content_type, "mode": self.mode.value,
                "data": self.data, "encoding": self.encoding.value}

    @classmethod
    def from_dict(cls, raw: Any, expected: Mode) -> CaptureSide:
        if not isinstance(raw, dict):
            raise CaptureFormatError(f"{expected.value.lower()} side is not an object")
        try:
            mode = Mode(raw["mode"])
            encoding = Encoding(raw["encoding"])
            data = raw["data"]
        except KeyError as exc:
            raise CaptureFormatError(f"{expected.value.lower()} side lacks {exc.args[0]!r}") from exc
        except ValueError as exc:
            raise CaptureFormatError(str(exc)) from exc
        if not isinstance(data, str):
            raise CaptureFormatError(f"{expected.value.lower()} data is not a string")
        return cls(str(raw.get("observedContentType", "")), mode, data, encoding)


@dataclass(frozen=True)
class CaptureRecord:
    """One captured invocation: what went in, what came out, and when."""

    event_id: str
    inference_time: datetime
    endpoint_input: CaptureSide | None = None
    endpoint_output: CaptureSide | None = None
    inference_id: str | None = None
    event_version: str = EVENT_VERSION

    @classmethod
    def new(cls, *, when: datetime | None = None, inference_id: str | None = None,
            endpoint_input: CaptureSide | None = None,
            endpoint_output: CaptureSide | None = None) -> CaptureRecord:
        return cls(event_id=str(uuid.uuid4()), inference_time=when or datetime.now(UTC),
                   endpoint_input=endpoint_input, endpoint_output=endpoint_output,
                   inference_id=inference_id)

    def to_dict(self) -> dict[str, Any]:
        capture: dict[str, Any] = {}
        if self.endpoint_input is not None:
            capture["endpointInput"] = self.endpoint_input.to_dict()
        if self.endpoint_output is not None:
            capture["endpointOutput"] = self.endpoint_output.to_dict()
        meta: dict[str, str] = {"eventId": self.event_id}
        if self.inference_id is not None:
            meta["inferenceId"] = self.inference_id
        meta["inferenceTime"] = format_inference_time(self.inference_time)
        return {"captureData": capture, "eventMetadata": meta, "eventVersion": self.event_version}

    def to_json_line(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, raw: Any) -> CaptureRecord:
        if not isinstance(raw, dict):
            raise CaptureFormatError("record is not a JSON object")
        capture = raw.get("captureData")
        meta = raw.get("eventMetadata")
        if not isinstance(capture, dict):
            raise CaptureFormatError("record lacks 'captureData'")
        if not isinstance(meta, dict):
            raise CaptureFormatError("record lacks 'eventMetadata'")
        if "eventId" not in meta or "inferenceTime" not in meta:
            raise CaptureFormatError("eventMetadata lacks 'eventId' or 'inferenceTime'")
        side_in = capture.get("endpointInput")
        side_out = capture.get("endpointOutput")
        if side_in is None and side_out is None:
            raise CaptureFormatError("captureData has neither endpointInput nor endpointOutput")
        return cls(
            event_id=str(meta["eventId"]),
            inference_time=parse_inference_time(meta["inferenceTime"]),
            endpoint_input=None if side_in is None else CaptureSide.from_dict(side_in, Mode.INPUT),
            endpoint_output=None if side_out is None else CaptureSide.from_dict(side_out, Mode.OUTPUT),
            inference_id=None if meta.get("inferenceId") is None else str(meta["inferenceId"]),
            event_version=str(raw.get("eventVersion", EVENT_VERSION)),
        )

    @classmethod
    def from_json_line(cls, line: str | bytes) -> CaptureRecord:
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CaptureFormatError(f"not JSON: {exc}") from exc
        return cls.from_dict(raw)


def format_inference_time(when: datetime) -> str:
    """UTC, whole seconds, ``Z`` suffix: ``2025-10-04T08:44:11Z``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_inference_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise CaptureFormatError("inferenceTime is not a string")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CaptureFormatError(f"inferenceTime {text!r} is not an ISO-8601 time") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def capture_key(endpoint: str, variant: str, first_event: datetime, file_id: str | None = None) -> str:
    """``<endpoint>/<variant>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid4>.jsonl`` for a file's first event (UTC)."""
    when = first_event.astimezone(UTC)
    return (f"{endpoint}/{variant}/{when:%Y/%m/%d/%H}/"
            f"{when:%M-%S}-{when.microsecond // 1000:03d}-{file_id or uuid.uuid4()}.jsonl")


def parse_capture_key(key: str) -> tuple[str, str, datetime]:
    """(endpoint, variant, time of the file's first event) from a capture key."""
    match = KEY_PATTERN.search(key)
    if not match:
        raise CaptureFormatError(f"{key!r} is not a Data Capture key")
    g = match.groupdict()
    when = datetime(int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"]), int(g["mi"]), int(g["s"]),
                    int(g["ms"]) * 1000, tzinfo=UTC)
    return g["endpoint"], g["variant"], when


def dumps_lines(records: Iterable[CaptureRecord]) -> str:
    return "".join(r.to_json_line() for r in records)
