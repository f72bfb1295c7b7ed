"""AWS's JSON protocol (awsJson 1.0 / 1.1), read from a botocore service model.

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a
JSON object as its body; the answer is a JSON object shaped like the
operation's output, or an error ``{"__type": "<Code>", "message": "..."}``.
Nothing here knows a particular service: the operation, its input members,
their types and constraints (required, lengths, ranges, enums) and the output
shapes all come from the model, so the parser checks what AWS's front door
checks and the serializer writes what botocore's ``JSONParser`` reads
(timestamps as epoch seconds, blobs as base64).

Example
-------
>>> from scones.gateway.model import service_model
>>> protocol = JsonProtocol(service_model("stepfunctions"))
>>> op = protocol.operation("AWSStepFunctions.ListStateMachines")
>>> protocol.parse(op, b'{"maxResults": 5}')
{'maxResults': 5}
>>> try:
...     protocol.parse(op, b'{"maxResults": 5000}')
... except ProtocolError as exc:
...     print(exc.code, "|", exc.message.split(": ")[1])
ValidationException | Value '5000' at 'maxResults' failed to satisfy constraint
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from starlette.responses import Response

from scones.gateway.protocols.values import ProtocolError

# botocore's model objects (``botocore.model``), read through the few attributes used here; botocore
# ships no type information, so they are typed loosely rather than through a stub package.
ServiceModel = Any
OperationModel = Any
Shape = Any

#: Client errors, as AWS answers them.
BAD_REQUEST: Final = 400
UNKNOWN_OPERATION: Final = "UnknownOperationException"
SERIALIZATION: Final = "SerializationException"
VALIDATION: Final = "ValidationException"


class JsonProtocol:
    """The wire of one JSON-protocol service: operations by target, input checks, output and errors."""

    def __init__(self, model: ServiceModel, *, skip_length_checks: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.target_prefix: str = model.metadata["targetPrefix"]
        self.content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        self._operations = {name: model.operation_model(name) for name in model.operation_names}
        #: Shape names whose length the service checks itself (say, in UTF-8 bytes, with its own error).
        self.skip_length_checks = skip_length_checks
        #: Output writers by shape name, made on first use (walking the model per answer costs more).
        self._writers: dict[str, Writer] = {}

    # -- requests ---------------------------------------------------------------
    def operation(self, target: str | None) -> OperationModel:
        """The operation an ``X-Amz-Target`` names; ``UnknownOperationException`` otherwise."""
        prefix, _, name = (target or "").partition(".")
        operation = self._operations.get(name) if prefix == self.target_prefix else None
        if operation is None:
            raise ProtocolError(UNKNOWN_OPERATION, f"Operation {target or '(no X-Amz-Target)'} is not known "
                                                   f"to {self.model.metadata.get('serviceFullName', 'this service')}")
        return operation

    def parse(self, operation: OperationModel, body: bytes) -> dict[str, Any]:
        """The request's members, type-converted (timestamps, blobs) and checked against the input shape.

        Raises ``SerializationException`` for a body that is not a JSON object or a member of the wrong
        type, and ``ValidationException`` listing every broken constraint, worded as AWS words them.
        """
        try:
            document = json.loads(body, parse_constant=_not_json) if body.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(SERIALIZATION, f"The request body is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise ProtocolError(SERIALIZATION, "The request body must be a JSON object")
        shape = operation.input_shape
        if shape is None:
            return {}
        problems: list[str] = []
        params = _Reader(problems, self.skip_length_checks).structure(shape, document, "")
        if problems:
            count = len(problems)
            raise ProtocolError(VALIDATION, f"{count} validation error{'s' if count > 1 else ''} detected: "
                                            + "; ".join(problems))
        return params

    # -- answers ----------------------------------------------------------------
    def serialize(self, operation: OperationModel, output: Mapping[str, Any]) -> bytes:
        """``output`` written as the operation's output shape: members the shape lacks are left out."""
        shape = operation.output_shape
        document = self._writer(shape)(output) if shape is not None else {}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _writer(self, shape: Shape) -> Writer:
        found = self._writers.get(shape.name)
        if found is None:
            found = _compile(shape, self._writers) or _same
        return found

    def response(self, operation: OperationModel, output: Mapping[str, Any]) -> Response:
        return Response(self.serialize(operation, output), status_code=200, headers=self._headers(),
                        media_type=self.content_type)

    def error(self, code: str, message: str, *, status: int = BAD_REQUEST,
              fields: Mapping[str, Any] | None = None) -> Response:
        """An error as botocore's JSON parser reads it: ``__type`` is the code, ``message`` the text."""
        body: dict[str, Any] = {"__type": code, "message": message}
        if fields:
            body.update({k: v for k, v in fields.items() if v is not None})
        return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), status_code=status,
                        headers=self._headers(), media_type=self.content_type)

    def _headers(self) -> dict[str, str]:
        return {"x-amzn-RequestId": request_id()}


def request_id() -> str:
    """A random version-4 UUID, as AWS's request ids are, without ``uuid4``'s system call per request."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


_random: Final = random.Random()


class _Reader:
    """One request's members, read shape by shape; each broken constraint is appended to ``problems``."""

    def __init__(self, problems: list[str], skip_length_checks: frozenset[str]) -> None:
        self.problems = problems
        self.skip_length_checks = skip_length_checks

    def value(self, shape: Shape, value: Any, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, value, path)
        if kind == "list":
            return self.list(shape, value, path)
        if kind == "map":
            return self.map(shape, value, path)
        if kind == "string":
            return self.string(shape, value, path)
        if kind in ("integer", "long"):
            return self.integer(shape, value, path)
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _wrong_type(path, "a number", value)
            self._range(shape, value, path)
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _wrong_type(path, "a boolean", value)
            return value
        if kind == "timestamp":
            return _timestamp(value, path)
        if kind == "blob":
            if not isinstance(value, str):
                raise _wrong_type(path, "a base64 string", value)
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProtocolError(SERIALIZATION, f"'{path}' is not valid base64") from exc
        return value  # documents and anything newer: as sent

    def structure(self, shape: Shape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _wrong_type(path or "the request", "an object", value)
        out: dict[str, Any] = {}
        members = shape.members
        for name in shape.required_members:
            if value.get(members[name].serialization.get("name", name)) is None:
                self.problems.append(f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                                     "Member must not be null")
        for name, member in members.items():
            raw = value.get(member.serialization.get("name", name))
            if raw is not None:
                out[name] = self.value(member, raw, _join(path, name))
        return out

    def list(self, shape: Shape, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _wrong_type(path, "a list", value)
        self._length(shape, len(value), value, path)
        return [self.value(shape.member, item, f"{path}.{i + 1}.member") for i, item in enumerate(value)]

    def map(self, shape: Shape, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _wrong_type(path, "an object", value)
        self._length(shape, len(value), value, path)
        return {self.value(shape.key, k, f"{path}.key"): self.value(shape.value, v, f"{path}.{k}")
                for k, v in value.items()}

    def string(self, shape: Shape, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise _wrong_type(path, "a string", value)
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            self.problems.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                                 f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if shape.name not in self.skip_length_checks:
            self._length(shape, len(value), value, path)
        return value

    def integer(self, shape: Shape, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()):  # 1.5, and 1e400 (read as infinity)
            raise _wrong_type(path, "an integer", value)
        self._range(shape, int(value), path)
        return int(value)

    def _length(self, shape: Shape, length: int, value: Any, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        shown = value if isinstance(value, str) else "[...]"
        if low is not None and length < low:
            self.problems.append(f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                                 f"Member must have length greater than or equal to {low}")
        if high is not None and length > high:
            self.problems.append(f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                                 f"Member must have length less than or equal to {high}")

    def _range(self, shape: Shape, value: float, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.problems.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                                 f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self.problems.append(f"Value '{value}' at '{path}' failed to satisfy constraint: "
                                 f"Member must have value less than or equal to {high}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _wrong_type(path: str, expected: str, value: Any) -> ProtocolError:
    return ProtocolError(SERIALIZATION, f"'{path}' must be {expected}, not {_json_type(value)}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _not_json(constant: str) -> Any:
    """Python's ``json`` reads ``NaN`` and ``Infinity``; JSON (and AWS's front door) has no such values."""
    raise ValueError(f"{constant} is not a JSON value")


def _timestamp(value: Any, path: str) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:  # beyond what a datetime holds
            raise ProtocolError(SERIALIZATION, f"'{path}' is not a timestamp") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ProtocolError(SERIALIZATION, f"'{path}' is not a timestamp") from exc
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise _wrong_type(path, "a timestamp", value)


# -- output ------------------------------------------------------------------------
Writer = Callable[[Any], Any]


def _compile(shape: Shape, writers: dict[str, Writer]) -> Writer | None:
    """The function writing a value of ``shape`` as JSON wants it; None when the value goes as it is.

    Structures keep only the members their shape has (in the shape's order, under their wire names)
    and leave out the ones that are None.
    """
    kind = shape.type_name
    if kind == "structure":
        known = writers.get(shape.name)
        if known is not None:
            return known
        members: list[tuple[str, str, Writer | None]] = []

        def write_structure(value: Mapping[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, wire, write in members:
                v = value.get(name)
                if v is not None:
                    out[wire] = v if write is None else write(v)
            return out

        writers[shape.name] = write_structure  # before the members: a shape may contain itself
        for name, member in shape.members.items():
            members.append((name, member.serialization.get("name", name), _compile(member, writers)))
        return write_structure
    if kind == "list":
        item = _compile(shape.member, writers)
        return list if item is None else (lambda value: [item(v) for v in value])
    if kind == "map":
        entry = _compile(shape.value, writers)
        return (lambda value: {str(k): v if entry is None else entry(v) for k, v in value.items()})
    if kind == "timestamp":
        return epoch_seconds
    if kind == "blob":
        return _blob
    return None


def _same(value: Any) -> Any:
    return value


def _blob(value: Any) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def epoch_seconds(value: Any) -> float | int:
    """A timestamp as the JSON protocol carries it: seconds since the epoch, milliseconds kept.

    Takes epoch seconds, a ``datetime`` (naive means UTC) or ISO 8601 text (``2024-01-02T03:04:05.678Z``,
    as execution histories record times).
    """
    if isinstance(value, datetime):
        millis = round((value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp() * 1000)
    elif isinstance(value, str):
        millis = round(_timestamp(value, "timestamp").timestamp() * 1000)
    else:
        # Cut to the millisecond, as the kept records (ISO text) are: the same instant reads the same
        # before and after a restart.
        millis = int(float(value) * 1000)
    return millis // 1000 if millis % 1000 == 0 else millis / 1000
