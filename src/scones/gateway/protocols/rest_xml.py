"""The rest-xml protocol (S3's), read from botocore's service model: requests in, output dicts out.

botocore holds every operation as data: its HTTP method and URI template, which input member is a
path label, a query parameter, a header, a header-prefix map or the XML payload, and how outputs are
laid out (header members, flattened lists, element names, timestamp formats). This module is the
inverse of botocore's own rest-xml serializer and parser, so that whatever botocore sends parses
into the same dict the SDK user passed, and whatever we answer parses back into the dict we built.

Per-operation plans (which header carries which member, and how to convert it) are computed once and
cached: a request costs dict look-ups, not walks of the model.
"""

from __future__ import annotations

import base64
import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Final
from xml.parsers import expat

from botocore.model import (  # type: ignore[import-untyped]
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StructureShape,
)

Headers = Mapping[str, str]
Query = Mapping[str, list[str]]

_XML_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})
#: Largest XML request body we parse (DeleteObjects with 1,000 keys of 1,024 bytes fits).
MAX_XML_BODY: Final = 4 * 1024 * 1024


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


# -- values on the wire ------------------------------------------------------------
def xml_escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


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


def _format_timestamp(value: Any, fmt: str) -> str:
    if isinstance(value, str):
        return value
    if fmt == "rfc822":
        return rfc822(value)
    if fmt == "unixTimestamp":
        return str(int(value.timestamp() if isinstance(value, datetime) else value))
    return iso8601(value)


def _scalar_text(shape: Shape, value: Any, default_ts: str) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return _format_timestamp(value, shape.serialization.get("timestampFormat", default_ts))
    if kind == "blob":
        return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else str(value)
    return str(value)


def _scalar_value(shape: Shape, text: str, name: str, default_ts: str) -> Any:
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


# -- routing -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    path: re.Pattern[str]
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    rank: tuple[int, int, str]

    def accepts(self, query: Query, headers: Headers) -> bool:
        for key, value in self.literal_query:
            got = query.get(key)
            if got is None or (value is not None and value not in got):
                return False
        return all(k in query for k in self.required_query) and all(h in headers for h in self.required_headers)


def _route(operation: OperationModel) -> _Route:
    uri = operation.http["requestUri"]
    path, _, query = uri.partition("?")
    pattern = "".join(
        ("(?P<%s>.+)" if m.group(2) else "(?P<%s>[^/]+)") % m.group(1) if m.group(1) else re.escape(m.group(0))
        for m in re.finditer(r"\{([A-Za-z0-9_]+)(\+?)\}|[^{]+", path))
    literal = tuple((k, v if sep else None) for k, sep, v in (p.partition("=") for p in query.split("&") if p))
    required_query: list[str] = []
    required_headers: list[str] = []
    shape = operation.input_shape
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            if location == "querystring":
                required_query.append(member.serialization.get("name", name))
            elif location == "header":
                required_headers.append(member.serialization.get("name", name).lower())
    specificity = 10 * len(literal) + len(required_query) + len(required_headers)
    # Deprecated twins (GetBucketLifecycle beside GetBucketLifecycleConfiguration) lose ties; then by name.
    rank = (-specificity, 1 if operation.deprecated else 0, operation.name)
    return _Route(operation, re.compile(f"^{pattern}$"), literal, tuple(required_query), tuple(required_headers), rank)


# -- per-operation plans -------------------------------------------------------------
@dataclass(frozen=True)
class _Member:
    name: str
    wire: str  # header name (lower-case for input), query key, or path label
    shape: Shape


@dataclass
class _InputPlan:
    uri: list[_Member] = field(default_factory=list)
    query: list[_Member] = field(default_factory=list)
    headers: dict[str, _Member] = field(default_factory=dict)
    prefixed: list[_Member] = field(default_factory=list)
    payload: _Member | None = None


@dataclass
class _OutputPlan:
    headers: dict[str, tuple[str, Shape]] = field(default_factory=dict)
    prefixed: dict[str, str] = field(default_factory=dict)
    status_member: str | None = None
    payload: _Member | None = None
    body_members: list[_Member] = field(default_factory=list)


def _input_plan(operation: OperationModel) -> _InputPlan:
    plan = _InputPlan()
    shape = operation.input_shape
    if not isinstance(shape, StructureShape):
        return plan
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        location = member.serialization.get("location")
        if name == payload_name:
            plan.payload = _Member(name, wire, member)
        elif location == "uri":
            plan.uri.append(_Member(name, wire, member))
        elif location == "querystring":
            plan.query.append(_Member(name, wire, member))
        elif location == "header":
            plan.headers[wire.lower()] = _Member(name, wire.lower(), member)
        elif location == "headers":
            plan.prefixed.append(_Member(name, wire.lower(), member))
    return plan


def _output_plan(operation: OperationModel) -> _OutputPlan:
    plan = _OutputPlan()
    shape = operation.output_shape
    if not isinstance(shape, StructureShape):
        return plan
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        location = member.serialization.get("location")
        if name == payload_name:
            plan.payload = _Member(name, wire, member)
        elif location == "header":
            plan.headers[name] = (wire, member)
        elif location == "headers":
            plan.prefixed[name] = wire
        elif location == "statusCode":
            plan.status_member = name
        elif location is None:
            plan.body_members.append(_Member(name, wire, member))
    return plan


# -- XML out ---------------------------------------------------------------------------
def _element_name(shape: Shape, member_name: str) -> str:
    """The element a member is written as (botocore's ``_member_key_name``)."""
    if isinstance(shape, ListShape) and shape.serialization.get("flattened"):
        item_name = shape.member.serialization.get("name")
        if item_name is not None:
            return str(item_name)
    return str(shape.serialization.get("name", member_name))


def _write_value(shape: Shape, value: Any, name: str, out: list[str]) -> None:
    if isinstance(shape, StructureShape):
        _write_structure(shape, value, name, out)
    elif isinstance(shape, ListShape):
        if shape.serialization.get("flattened"):
            for item in value:
                _write_value(shape.member, item, name, out)
        else:
            item_name = shape.member.serialization.get("name", "member")
            out.append(f"<{name}>")
            for item in value:
                _write_value(shape.member, item, item_name, out)
            out.append(f"</{name}>")
    elif isinstance(shape, MapShape):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        if not shape.serialization.get("flattened"):
            out.append(f"<{name}>")
        for k, v in value.items():
            out.append("<entry>" if not shape.serialization.get("flattened") else f"<{name}>")
            _write_value(shape.key, k, key_name, out)
            _write_value(shape.value, v, value_name, out)
            out.append("</entry>" if not shape.serialization.get("flattened") else f"</{name}>")
        if not shape.serialization.get("flattened"):
            out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{xml_escape(_scalar_text(shape, value, 'iso8601'))}</{name}>")


def _write_structure(shape: StructureShape, value: Mapping[str, Any], name: str, out: list[str],
                     namespace: str | None = None) -> None:
    attrs = []
    if namespace:
        attrs.append(f' xmlns="{namespace}"')
    ns = shape.serialization.get("xmlNamespace")
    if isinstance(ns, Mapping) and ns.get("prefix"):
        attrs.append(f' xmlns:{ns["prefix"]}="{xml_escape(ns["uri"])}"')
    children: list[str] = []
    for member_name, member in shape.members.items():
        item = value.get(member_name)
        if item is None:
            continue
        if member.serialization.get("xmlAttribute"):
            attrs.append(f' {member.serialization["name"]}="{xml_escape(_scalar_text(member, item, "iso8601"))}"')
        else:
            _write_value(member, item, _element_name(member, member_name), children)
    out.append(f"<{name}{''.join(attrs)}>")
    out.extend(children)
    out.append(f"</{name}>")


def xml_document(shape: StructureShape, value: Mapping[str, Any], root: str, namespace: str | None) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write_structure(shape, value, root, out, namespace)
    return "".join(out).encode("utf-8")


# -- XML in ----------------------------------------------------------------------------
@dataclass
class XmlNode:
    tag: str
    attrs: dict[str, str]
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""


def _local(name: str) -> str:
    return name.rpartition(" ")[2].rpartition(":")[2]


def parse_xml(body: bytes) -> XmlNode:
    """A small element tree from expat; DOCTYPEs (entity tricks) and malformed documents are MalformedXML."""
    if len(body) > MAX_XML_BODY:
        raise ProtocolError("MalformedXML", "The XML you provided was too large")
    parser = expat.ParserCreate(namespace_separator=" ")
    stack: list[XmlNode] = []
    root: list[XmlNode] = []
    texts: list[list[str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = XmlNode(_local(tag), {_local(k): v for k, v in attrs.items()})
        (stack[-1].children if stack else root).append(node)
        stack.append(node)
        texts.append([])

    def end(tag: str) -> None:
        stack.pop().text = "".join(texts.pop())

    def chars(data: str) -> None:
        if texts:
            texts[-1].append(data)

    def doctype(*_: Any) -> None:
        raise ProtocolError("MalformedXML", "The XML you provided must not have a DOCTYPE")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise ProtocolError("MalformedXML", "The XML you provided was not well-formed or did not validate "
                                            f"against our published schema ({exc})") from exc
    if not root:
        raise ProtocolError("MalformedXML", "The XML you provided was empty")
    return root[0]


def _read_value(shape: Shape, node: XmlNode, name: str) -> Any:
    if isinstance(shape, StructureShape):
        return _read_structure(shape, node)
    if isinstance(shape, ListShape):
        item_name = shape.member.serialization.get("name", "member")
        return [_read_value(shape.member, child, item_name) for child in node.children if child.tag == item_name]
    if isinstance(shape, MapShape):
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result = {}
        for entry in node.children:
            parts = {c.tag: c for c in entry.children}
            if key_name in parts and value_name in parts:
                result[parts[key_name].text] = _read_value(shape.value, parts[value_name], value_name)
        return result
    try:
        return _scalar_value(shape, node.text, name, "iso8601")
    except ProtocolError as exc:
        raise ProtocolError("MalformedXML", f"The XML you provided did not validate: {exc.message}") from exc


def _read_structure(shape: StructureShape, node: XmlNode) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for member_name, member in shape.members.items():
        if member.serialization.get("xmlAttribute"):
            attr = _local(member.serialization.get("name", member_name))
            if attr in node.attrs:
                result[member_name] = node.attrs[attr]
            continue
        tag = _element_name(member, member_name)
        if isinstance(member, ListShape) and member.serialization.get("flattened"):
            items = [_read_value(member.member, c, tag) for c in node.children if c.tag == tag]
            if items:
                result[member_name] = items
            continue
        child = next((c for c in node.children if c.tag == tag), None)
        if child is not None:
            result[member_name] = _read_value(member, child, tag)
    return result


# -- the protocol ------------------------------------------------------------------------
class RestXmlProtocol:
    """Routing, input parsing and output serialization for one rest-xml service model."""

    def __init__(self, model: ServiceModel, *, namespace: str | None = None) -> None:
        self.model = model
        self.namespace = namespace
        # method -> [(path pattern, routes of that pattern, most specific first)]: a request matches its
        # path against the few distinct templates once, then checks only those routes' parameters.
        # Routes that need no query parameter are kept apart too: most object requests carry none.
        self._routes: dict[str, list[tuple[re.Pattern[str], list[_Route], list[_Route]]]] = {}
        by_path: dict[tuple[str, str], list[_Route]] = {}
        for name in model.operation_names:
            route = _route(model.operation_model(name))
            by_path.setdefault((route.operation.http["method"], route.path.pattern), []).append(route)
        for (method, _), routes in by_path.items():
            routes.sort(key=lambda r: r.rank)
            bare = [r for r in routes if not r.literal_query and not r.required_query]
            self._routes.setdefault(method, []).append((routes[0].path, routes, bare))
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}

    def match(self, method: str, path: str, query: Query, headers: Headers) -> tuple[OperationModel, dict[str, str]]:
        """The operation a request names, and its path labels; ``headers`` with lower-case names."""
        for pattern, routes, bare in self._routes.get(method, ()):
            found = pattern.match(path)
            if found is None:
                continue
            for route in routes if query else bare:
                if route.accepts(query, headers):
                    return route.operation, found.groupdict()
        if any(pattern.match(path) for groups in self._routes.values() for pattern, _, _ in groups):
            raise NoSuchOperation("MethodNotAllowed", "The specified method is not allowed against this resource.",
                                  405, Method=method)
        raise NoSuchOperation("InvalidRequest", f"No operation matches {method} {path}")

    def input_plan(self, operation: OperationModel) -> _InputPlan:
        plan = self._inputs.get(operation.name)
        if plan is None:
            plan = self._inputs[operation.name] = _input_plan(operation)
        return plan

    def output_plan(self, operation: OperationModel) -> _OutputPlan:
        plan = self._outputs.get(operation.name)
        if plan is None:
            plan = self._outputs[operation.name] = _output_plan(operation)
        return plan

    def parse_input(self, operation: OperationModel, labels: Mapping[str, str], query: Query,
                    headers: Headers) -> dict[str, Any]:
        """Every member that travels outside the body (path labels, query, headers, header maps)."""
        plan = self.input_plan(operation)
        params: dict[str, Any] = {}
        for m in plan.uri:
            if m.wire in labels:
                params[m.name] = labels[m.wire]
        for m in plan.query:
            values = query.get(m.wire)
            if values is None:
                continue
            if isinstance(m.shape, ListShape):
                params[m.name] = list(values)
            else:
                params[m.name] = _scalar_value(m.shape, values[0], m.wire, "iso8601")
        for wire, text in headers.items():
            header = plan.headers.get(wire)
            if header is None:
                for p in plan.prefixed:
                    if wire.startswith(p.wire):
                        params.setdefault(p.name, {})[wire[len(p.wire):]] = text
                continue
            if isinstance(header.shape, ListShape):
                params[header.name] = [v.strip() for v in text.split(",") if v.strip()]
            elif header.shape.type_name == "timestamp":
                moment = parse_timestamp(text, header.shape.serialization.get("timestampFormat", "rfc822"))
                if moment is not None:
                    params[header.name] = moment
            else:
                params[header.name] = _scalar_value(header.shape, text, header.wire, "rfc822")
        return params

    def parse_payload(self, operation: OperationModel, body: bytes) -> dict[str, Any]:
        """The XML payload structure (``Delete``, ``CompleteMultipartUpload``...) as ``{member: value}``."""
        plan = self.input_plan(operation)
        if plan.payload is None or not isinstance(plan.payload.shape, StructureShape):
            return {}
        if not body.strip():
            return {}
        node = parse_xml(body)
        if node.tag != plan.payload.wire:
            raise ProtocolError("MalformedXML", f"The XML you provided has root <{node.tag}>, "
                                                f"expected <{plan.payload.wire}>")
        return {plan.payload.name: _read_structure(plan.payload.shape, node)}

    def serialize_output(self, operation: OperationModel, output: Mapping[str, Any], *,
                         root: str | None = None) -> tuple[int | None, list[tuple[str, str]], bytes | None]:
        """(status from a ``statusCode`` member, headers, XML body). A blob payload is left to the caller
        (it streams); the XML body is None when the output has nothing for the body."""
        plan = self.output_plan(operation)
        headers: list[tuple[str, str]] = []
        status = None
        body_values = {}
        for name, value in output.items():
            if value is None:
                continue
            header = plan.headers.get(name)
            if header is not None:
                wire, shape = header
                if isinstance(shape, ListShape):
                    headers.append((wire, ",".join(str(v) for v in value)))
                else:
                    headers.append((wire, _scalar_text(shape, value, "rfc822")))
            elif name in plan.prefixed:
                prefix = plan.prefixed[name]
                headers.extend((prefix + k, str(v)) for k, v in value.items())
            elif name == plan.status_member:
                status = int(value)
            else:
                body_values[name] = value
        body = None
        if plan.payload is not None:
            value = output.get(plan.payload.name)
            if value is not None and isinstance(plan.payload.shape, StructureShape):
                body = xml_document(plan.payload.shape, value, root or plan.payload.wire, self.namespace)
        elif body_values:
            shape = operation.output_shape
            assert isinstance(shape, StructureShape)
            body = xml_document(shape, body_values, root or shape.serialization.get("name", shape.name),
                                self.namespace)
        return status, headers, body


def error_document(code: str, message: str, request_id: str, fields: Mapping[str, str] | None = None) -> bytes:
    """S3's error body: ``<Error><Code/><Message/>...<RequestId/></Error>``."""
    extra = "".join(f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in (fields or {}).items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{xml_escape(code)}</Code>'
            f"<Message>{xml_escape(message)}</Message>{extra}<RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>").encode()


def epoch_seconds(moment: datetime) -> float:
    return calendar.timegm(moment.utctimetuple()) + moment.microsecond / 1e6
