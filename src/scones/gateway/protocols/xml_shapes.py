"""XML documents by shape, the rest-xml way: an output dict written as botocore's parser reads it (element
names, flattened lists, attributes, namespaces), and a request's XML payload read into the dict botocore's
serializer made it from. Parsing goes through expat with DOCTYPEs refused, so entity tricks never expand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from xml.parsers import expat

from botocore.model import ListShape, MapShape, Shape, StructureShape

from scones.gateway.protocols.values import ProtocolError, scalar_text, scalar_value

_XML_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})
#: Largest XML request body we parse (DeleteObjects with 1,000 keys of 1,024 bytes fits).
MAX_XML_BODY: Final = 4 * 1024 * 1024


def xml_escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


def element_name(shape: Shape, member_name: str) -> str:
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
        out.append(f"<{name}>{xml_escape(scalar_text(shape, value, 'iso8601'))}</{name}>")


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
            attrs.append(f' {member.serialization["name"]}="{xml_escape(scalar_text(member, item, "iso8601"))}"')
        else:
            _write_value(member, item, element_name(member, member_name), children)
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
        return read_structure(shape, node)
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
        return scalar_value(shape, node.text, name, "iso8601")
    except ProtocolError as exc:
        raise ProtocolError("MalformedXML", f"The XML you provided did not validate: {exc.message}") from exc


def read_structure(shape: StructureShape, node: XmlNode) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for member_name, member in shape.members.items():
        if member.serialization.get("xmlAttribute"):
            attr = _local(member.serialization.get("name", member_name))
            if attr in node.attrs:
                result[member_name] = node.attrs[attr]
            continue
        tag = element_name(member, member_name)
        if isinstance(member, ListShape) and member.serialization.get("flattened"):
            items = [_read_value(member.member, c, tag) for c in node.children if c.tag == tag]
            if items:
                result[member_name] = items
            continue
        child = next((c for c in node.children if c.tag == tag), None)
        if child is not None:
            result[member_name] = _read_value(member, child, tag)
    return result
