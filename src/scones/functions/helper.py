"""What every Scones handler shares: typed views over the event, envelope unwrapping, errors, object reads.

This module is packed into each function's deployment zip, so it imports the
standard library only (boto3 clients are passed in by the handlers).

Events reach a handler in several shapes, depending on who invoked it: the Step
Functions optimised integration passes ``Parameters.Payload`` as is; a console
test or a chained state may wrap the fields in ``body`` (an object, or the
JSON-encoded string of API Gateway style responses); an un-filtered invoke
result carries them under ``Payload``. ``find_fields`` looks through those
envelopes for the object that holds the fields a handler needs, so the classic
``KeyError: 'image_data'`` and ``string indices must be integers`` failures turn
into one ``InvalidEvent`` error that names the missing field and the shapes
that would have worked.
"""

from __future__ import annotations

import base64
import binascii
import errno
import functools
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

LOG = logging.getLogger(__name__)

#: Set by the local Lambda runtime: objects are read from ``<root>/<bucket>/<key>`` instead of S3.
LOCAL_STORE_ENV: Final = "SCONES_LOCAL_STORE_ROOT"
DEFAULT_THRESHOLD: Final = 0.93
ENVELOPES: Final = ("body", "Payload")
MAX_ENVELOPE_DEPTH: Final = 4

ACCEPTED_SHAPES: Final = (
    '{"<field>": ...} (fields at the top level)',
    '{"body": {"<field>": ...}}',
    '{"body": "{\\"<field>\\": ...}"} (body as a JSON string)',
    '{"Payload": {...any of the above...}} (a Lambda invoke result)',
)


class InvalidEvent(ValueError):
    """The event holds no object with the fields this function needs, or a field has the wrong type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ConfigurationError(RuntimeError):
    """An environment variable of the function is missing or unusable."""


class ObjectNotFound(LookupError):
    """The image named by ``s3_bucket``/``s3_key`` does not exist."""


class ThresholdConfidenceNotMet(Exception):
    """The top inference is below the threshold; a state machine ``Catch`` sees this class name as the error."""

    MESSAGE: Final = "THRESHOLD_CONFIDENCE_NOT_MET"

    def __init__(self, message: str = MESSAGE) -> None:
        super().__init__(message)


# -- envelopes -----------------------------------------------------------------

def _candidates(event: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Objects that may hold the fields, outermost first."""
    if depth > MAX_ENVELOPE_DEPTH:
        return
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's limit
            return
    if not isinstance(event, Mapping):
        return
    yield event
    for key in ENVELOPES:
        if key in event:
            yield from _candidates(event[key], depth + 1)


def _describe(event: Any) -> str:
    if isinstance(event, Mapping):
        keys = ", ".join(repr(k) for k in list(event)[:10]) or "none"
        return f"an object with keys {keys}"
    if isinstance(event, str):
        return f"the string {event[:80]!r}" if event else "an empty string"
    if event is None:
        return "null"
    kind = ("boolean" if isinstance(event, bool) else "number" if isinstance(event, (int, float))
            else "array" if isinstance(event, (list, tuple)) else type(event).__name__)
    return f"a JSON {kind}"


def find_fields(event: Any, required: Sequence[str]) -> Mapping[str, Any]:
    """The outermost object in ``event`` (or its ``body``/``Payload`` envelopes) holding every ``required`` field."""
    best: Mapping[str, Any] | None = None
    best_hits = -1
    for candidate in _candidates(event):
        hits = sum(1 for name in required if name in candidate)
        if hits == len(required):
            return candidate
        if hits > best_hits:
            best, best_hits = candidate, hits
    missing = [name for name in required if best is None or name not in best]
    raise InvalidEvent(
        f"event is missing the field {missing[0]!r}"
        + (f" (also missing: {', '.join(repr(m) for m in missing[1:])})" if len(missing) > 1 else "")
        + f"; it was {_describe(event)}. Accepted shapes: " + "; ".join(ACCEPTED_SHAPES)
    )


# -- typed views ---------------------------------------------------------------

def _string_field(fields: Mapping[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"field {name!r} must be a non-empty string, got {_describe(value)}")
    return value


def _inferences_field(fields: Mapping[str, Any]) -> tuple[float, ...]:
    value = fields["inferences"]
    if isinstance(value, str):
        # classifyImage of the classic project returned the endpoint's body as a string.
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InvalidEvent(f"field 'inferences' is a string that is not a JSON list: {value[:80]!r}") from exc
    if not isinstance(value, list):
        raise InvalidEvent(f"field 'inferences' must be a list of numbers, got {_describe(value)}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0.0 <= item <= 1.0:
            raise InvalidEvent(f"field 'inferences' must hold probabilities (numbers from 0 to 1), found {item!r}")
        out.append(float(item))
    return tuple(out)


@dataclass(frozen=True)
class ImageRequest:
    """The workflow's input: which image to classify."""

    s3_bucket: str
    s3_key: str

    @classmethod
    def from_event(cls, event: Any) -> ImageRequest:
        fields = find_fields(event, ("s3_bucket", "s3_key"))
        return cls(s3_bucket=_string_field(fields, "s3_bucket"), s3_key=_string_field(fields, "s3_key"))


@dataclass(frozen=True)
class ImageBody:
    """The ``body`` the three functions hand on: the image as base64 text and, later, its inferences."""

    image_data: str
    s3_bucket: str
    s3_key: str
    inferences: tuple[float, ...] = field(default=())

    @classmethod
    def from_event(cls, event: Any, *, need_inferences: bool = False) -> ImageBody:
        required = ("image_data", "inferences") if need_inferences else ("image_data",)
        fields = find_fields(event, required)
        image_data = fields["image_data"]
        if not isinstance(image_data, str) or not image_data:
            raise InvalidEvent(f"field 'image_data' must be a non-empty base64 string, got {_describe(image_data)}")
        if image_data.startswith(("b'", 'b"')):
            raise InvalidEvent("field 'image_data' holds the repr of a bytes object (str(b64encode(...))); "
                               "encode it with base64.b64encode(data).decode('ascii')")
        inferences = _inferences_field(fields) if "inferences" in fields else ()
        if need_inferences and not inferences:
            raise InvalidEvent("field 'inferences' is empty: run classifyImage before filterInferences")
        bucket = fields.get("s3_bucket", "")
        key = fields.get("s3_key", "")
        return cls(image_data=image_data, s3_bucket=bucket if isinstance(bucket, str) else "",
                   s3_key=key if isinstance(key, str) else "", inferences=inferences)

    @classmethod
    def from_image(cls, data: bytes, request: ImageRequest) -> ImageBody:
        return cls(image_data=base64.b64encode(data).decode("ascii"),
                   s3_bucket=request.s3_bucket, s3_key=request.s3_key)

    def image_bytes(self) -> bytes:
        try:
            return base64.b64decode(self.image_data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidEvent(f"field 'image_data' is not valid base64: {exc}") from exc

    def with_inferences(self, inferences: Sequence[float]) -> ImageBody:
        return ImageBody(self.image_data, self.s3_bucket, self.s3_key, tuple(float(p) for p in inferences))

    def to_json(self) -> dict[str, Any]:
        return {"image_data": self.image_data, "s3_bucket": self.s3_bucket, "s3_key": self.s3_key,
                "inferences": list(self.inferences)}


def ok(body: ImageBody) -> dict[str, Any]:
    """The response every Scones function returns: ``body`` stays an object, never a re-encoded string."""
    return {"statusCode": 200, "body": body.to_json()}


# -- configuration -------------------------------------------------------------

def required_env(name: str, environ: Mapping[str, str] | None = None) -> str:
    value = (os.environ if environ is None else environ).get(name, "")
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set; set it in the function's configuration")
    return value


def threshold_from_env(environ: Mapping[str, str] | None = None) -> float:
    raw = (os.environ if environ is None else environ).get("THRESHOLD", "")
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"THRESHOLD has value {raw!r}; expected a number between 0 and 1") from exc
    if not 0.0 < value <= 1.0:
        raise ConfigurationError(f"THRESHOLD has value {raw!r}; expected a number in (0, 1]")
    return value


def content_type_of(data: bytes) -> str:
    """The content type the endpoint expects for these image bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/x-image"


def parse_probabilities(raw: bytes) -> list[float]:
    """The endpoint's answer, a JSON array of per-class probabilities, as floats."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"endpoint answered with something that is not JSON: {raw[:80]!r}") from exc
    if (not isinstance(value, list) or not value
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in value)):
        raise ValueError(f"endpoint answered {str(value)[:80]}; expected a JSON array of probabilities")
    return [float(p) for p in value]


# -- objects -------------------------------------------------------------------

def _check_names(bucket: str, key: str) -> None:
    for name, part in (("s3_bucket", bucket), ("s3_key", key)):
        if "\x00" in part or "\\" in part or part.startswith("/"):
            raise InvalidEvent(f"field {name!r} has value {part!r}, which is not a relative S3 name")
    if "/" in bucket or any(p in ("", ".", "..") for p in key.split("/")):
        raise InvalidEvent(f"s3://{bucket}/{key} is not a plain bucket and key")


def _inside(real_root: str, path: str, bucket: str, key: str) -> str:
    if os.path.commonpath([real_root, path]) != real_root:
        raise InvalidEvent(f"s3://{bucket}/{key} resolves outside the local store")
    return path


def _local_path(root: str, bucket: str, key: str) -> str:
    """The object's file with every symbolic link resolved, refused when that leads out of the store."""
    _check_names(bucket, key)
    real_root = _real_root(root)
    return _inside(real_root, os.path.realpath(os.path.join(real_root, bucket, key)), bucket, key)


@functools.lru_cache(maxsize=8)
def _real_root(root: str) -> str:
    """The store root without symbolic links; it is configuration, fixed for the container's life."""
    return os.path.realpath(root)


@functools.lru_cache(maxsize=256)
def _real_folder(real_root: str, bucket: str, folder: str) -> str:
    """A key's folder, resolved and checked once per container (folders are not swapped for links mid-run)."""
    path = os.path.realpath(os.path.join(real_root, bucket, folder))
    return _inside(real_root, path, bucket, folder)


def _read_local(root: str, bucket: str, key: str) -> bytes:
    """Read ``<root>/<bucket>/<key>`` with few system calls; a symbolic link is resolved and checked first.

    The folder's resolution is cached and the file itself is opened with
    ``O_NOFOLLOW``: only a file that is a link takes the full ``realpath`` walk
    (one ``lstat`` per path part, each a GIL release under concurrency).
    """
    _check_names(bucket, key)
    real_root = _real_root(root)
    folder, _, name = key.rpartition("/")
    path = os.path.join(_real_folder(real_root, bucket, folder), name)
    # Non-blocking open: a FIFO or device named by the key must not hang the function.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        fd = os.open(_local_path(root, bucket, key), flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileNotFoundError(errno.ENOENT, "not a regular file", path)
        os.set_blocking(fd, True)
        size = info.st_size
        data = os.read(fd, size + 1)
        if len(data) <= size:  # a regular file reads whole: this was all of it
            return data
        chunks = [data]
        while chunks[-1]:  # the file grew since fstat
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_object(bucket: str, key: str, s3_client: Callable[[], Any]) -> bytes:
    """The object's bytes: from S3 on AWS, from the local store when ``SCONES_LOCAL_STORE_ROOT`` is set.

    ``s3_client`` is called only on the S3 path, so local runs never build a client.
    """
    root = os.environ.get(LOCAL_STORE_ENV, "")
    if root:
        try:
            return _read_local(root, bucket, key)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object s3://{bucket}/{key} in the local store {root}") from exc
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            raise ObjectNotFound(f"no object s3://{bucket}/{key} in the local store {root} "
                                 "(the key is too long for a local file name)") from exc
    client = s3_client()
    try:
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise ObjectNotFound(f"no object s3://{bucket}/{key} ({code})") from exc
        raise
