"""The rest-xml protocol (S3's), read from botocore's service model: requests in, output dicts out.

botocore holds every operation as data: its HTTP method and URI template, which input member is a
path label, a query parameter, a header, a header-prefix map or the XML payload, and how outputs are
laid out (header members, flattened lists, element names, timestamp formats). This module is the
inverse of botocore's own rest-xml serializer and parser, so that whatever botocore sends parses
into the same dict the SDK user passed, and whatever we answer parses back into the dict we built.

Which operation a request names is ``rest_routing``'s job; XML documents by shape are ``xml_shapes``';
this module maps members to their places on the wire. Per-operation plans (which header carries which
member, and how to convert it) are computed once and cached: a request costs dict look-ups, not walks
of the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from scones.gateway.protocols.rest_routing import Headers, Query, RestRouter
from scones.gateway.protocols.values import ProtocolError, parse_timestamp, scalar_text, scalar_value
from scones.gateway.protocols.xml_shapes import parse_xml, read_structure, xml_document, xml_escape

__all__ = ["ProtocolError", "RestXmlProtocol", "error_document"]


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


class RestXmlProtocol:
    """Routing, input parsing and output serialization for one rest-xml service model."""

    def __init__(self, model: ServiceModel, *, namespace: str | None = None) -> None:
        self.model = model
        self.namespace = namespace
        self.router = RestRouter(model)
        self._inputs: dict[str, _InputPlan] = {}
        self._outputs: dict[str, _OutputPlan] = {}

    def match(self, method: str, path: str, query: Query, headers: Headers) -> tuple[OperationModel, dict[str, str]]:
        return self.router.match(method, path, query, headers)

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
                params[m.name] = scalar_value(m.shape, values[0], m.wire, "iso8601")
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
                params[header.name] = scalar_value(header.shape, text, header.wire, "rfc822")
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
        return {plan.payload.name: read_structure(plan.payload.shape, node)}

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
                    headers.append((wire, scalar_text(shape, value, "rfc822")))
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
            output_shape = operation.output_shape
            assert isinstance(output_shape, StructureShape)
            body = xml_document(output_shape, body_values,
                                root or output_shape.serialization.get("name", output_shape.name), self.namespace)
        return status, headers, body


def error_document(code: str, message: str, request_id: str, fields: Mapping[str, str] | None = None) -> bytes:
    """S3's error body: ``<Error><Code/><Message/>...<RequestId/></Error>``."""
    extra = "".join(f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in (fields or {}).items())
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{xml_escape(code)}</Code>'
            f"<Message>{xml_escape(message)}</Message>{extra}<RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>").encode()
