"""The rest-xml protocol against botocore itself: its serializer's requests parse into the dicts the SDK user
passed, and our answers parse back, through botocore's parser, into the dicts we built."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from scones.gateway.model import service_model
from scones.gateway.protocols.rest_xml import RestXmlProtocol
from scones.gateway.protocols.values import NoSuchOperation, ProtocolError
from scones.gateway.protocols.xml_shapes import parse_xml

MODEL = service_model("s3")
PROTOCOL = RestXmlProtocol(MODEL, namespace="http://s3.amazonaws.com/doc/2006-03-01/")


def _send(operation: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """What botocore's serializer makes of ``params``, read back by our protocol."""
    model = MODEL.operation_model(operation)
    request = create_serializer("rest-xml").serialize_to_request(params, model)
    url = urlsplit(request["url_path"] + ("?" + request["query_string"] if isinstance(request["query_string"], str)
                                          and request["query_string"] else ""))
    query: dict[str, list[str]] = parse_qs(url.query, keep_blank_values=True)
    for k, v in (request["query_string"] if isinstance(request["query_string"], dict) else {}).items():
        query[k] = v if isinstance(v, list) else [v]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    from urllib.parse import unquote

    found, labels = PROTOCOL.match(request["method"], unquote(url.path), query, headers)
    parsed = PROTOCOL.parse_input(found, labels, query, headers)
    if request["body"]:
        parsed.update(PROTOCOL.parse_payload(found, request["body"]))
    return found, parsed


@pytest.mark.parametrize(("operation", "params"), [
    ("PutObject", {"Bucket": "b", "Key": "a/b c+d.txt", "ContentType": "text/plain", "Metadata": {"k": "v"},
                   "ContentLength": 3, "CacheControl": "no-cache"}),
    ("CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/k", "MetadataDirective": "REPLACE"}),
    ("UploadPartCopy", {"Bucket": "b", "Key": "k", "CopySource": "src/k", "PartNumber": 3, "UploadId": "u1"}),
    ("UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 2, "UploadId": "u1"}),
    ("ListObjectsV2", {"Bucket": "b", "Prefix": "p/", "Delimiter": "/", "MaxKeys": 7, "FetchOwner": True}),
    ("ListObjects", {"Bucket": "b", "Marker": "m"}),
    ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "null"}],
                                                 "Quiet": True}}),
    ("CompleteMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": {
        "Parts": [{"PartNumber": 1, "ETag": '"e1"', "ChecksumCRC32": "AAAAAA=="}, {"PartNumber": 2, "ETag": '"e2"'}]}}),
    ("GetObject", {"Bucket": "b", "Key": "k", "Range": "bytes=0-1", "ResponseContentType": "x/y",
                   "IfModifiedSince": dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "k", "UploadId": "u"}),
    ("PutBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"}]}}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_requests_parse_into_what_the_sdk_sent(operation: str, params: dict[str, Any]) -> None:
    found, parsed = _send(operation, params)
    assert found.name == operation
    for name, value in params.items():
        assert parsed[name] == value, name


def _answer(operation: str, output: dict[str, Any], root: str | None = None) -> dict[str, Any]:
    model = MODEL.operation_model(operation)
    status, headers, body = PROTOCOL.serialize_output(model, output, root=root)
    response = {"status_code": status or 200, "headers": dict(headers), "body": body or b""}
    parsed: dict[str, Any] = create_parser("rest-xml").parse(response, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_answers_parse_back_through_botocore() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    listing = {"IsTruncated": True, "Name": "b", "Prefix": "", "MaxKeys": 2, "KeyCount": 2,
               "Contents": [{"Key": "a", "LastModified": moment, "ETag": '"e"', "Size": 1, "StorageClass": "STANDARD",
                             "ChecksumAlgorithm": ["CRC32"]}],
               "CommonPrefixes": [{"Prefix": "d/"}], "NextContinuationToken": "t"}
    assert _answer("ListObjectsV2", listing, root="ListBucketResult") == listing
    head = {"ETag": '"e"', "ContentLength": 5, "LastModified": moment, "Metadata": {"a": "1"},
            "ContentType": "text/plain", "ChecksumCRC32": "AAAAAA==", "TagCount": 2}
    assert _answer("HeadObject", head) == head
    acl = {"Owner": {"ID": "o", "DisplayName": "n"}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": "o", "DisplayName": "n"}, "Permission": "FULL_CONTROL"}]}
    assert _answer("GetBucketAcl", acl, root="AccessControlPolicy") == acl
    deleted = {"Deleted": [{"Key": "x"}], "Errors": [{"Key": "y", "Code": "AccessDenied", "Message": "no"}]}
    assert _answer("DeleteObjects", deleted, root="DeleteResult") == deleted


def test_routing_errors() -> None:
    with pytest.raises(NoSuchOperation) as caught:
        PROTOCOL.match("PATCH", "/b/k", {}, {})
    assert (caught.value.code, caught.value.status) == ("MethodNotAllowed", 405)
    model = MODEL.operation_model("ListObjectsV2")
    with pytest.raises(ProtocolError) as bad:
        PROTOCOL.parse_input(model, {"Bucket": "b"}, {"max-keys": ["many"]}, {})
    assert bad.value.code == "InvalidArgument"


@pytest.mark.parametrize("body", [b"<a>", b"", b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", b"\xff\xfe"])
def test_bad_xml(body: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_xml(body)
    assert caught.value.code == "MalformedXML"
