"""What an operation handler gets (``Call``: the parsed input of one request) and gives back (``Answer``).

Handlers work with botocore's member names (``params["Key"]``, ``output["ETag"]``); the protocol module
turns those into and out of the wire. Shared pieces every handler needs (the one owner, reading a small
XML body with its digests checked) live here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.model import OperationModel
from starlette.requests import ClientDisconnect, Request

from scones.gateway.s3 import checksums
from scones.gateway.s3.body import ClientGone
from scones.gateway.s3.errors import S3Error, bad_digest, invalid_argument
from scones.gateway.s3.layout import check_key

#: The one account every access key stands for.
OWNER: Final = {"ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", "DisplayName": "scones"}
FULL_CONTROL_ACL: Final = {
    "Owner": OWNER,
    "Grants": [{"Grantee": {"Type": "CanonicalUser", **OWNER}, "Permission": "FULL_CONTROL"}],
}
#: Canned ACLs S3 accepts in ``x-amz-acl`` (accepted here; the one owner keeps full control).
CANNED_ACLS: Final = frozenset({"private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read",
                                "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"})


@dataclass
class Call:
    request: Request
    operation: OperationModel
    params: dict[str, Any]
    headers: dict[str, str]
    request_id: str

    @property
    def bucket(self) -> str:
        return str(self.params["Bucket"])

    @property
    def key(self) -> str:
        key = str(self.params["Key"])
        check_key(key)
        return key


@dataclass
class Answer:
    """An operation's result: ``output`` in botocore's member names, or a ready body."""

    output: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    #: XML root element when it is not the output shape's name (``ListBucketResult``...).
    root: str | None = None
    #: A ready body (an object's bytes, a hand-made XML document); the output's XML is not used then.
    body: bytes | None = None
    #: An object's bytes to stream: (descriptor, offset, length).
    file: tuple[int, int, int] | None = None
    #: HEAD: the length a GET would have sent.
    content_length: int | None = None


Handler = Callable[[Call], Awaitable[Answer]]
#: The protocol's reading of an operation's XML payload (``RestXmlProtocol.parse_payload``).
Parse = Callable[[Call, bytes], dict[str, Any]]
#: The largest XML document (a configuration, an ACL, a tag set) a request may send.
XML_LIMIT: Final = 1024 * 1024


def check_acl(params: dict[str, Any]) -> None:
    acl = params.get("ACL")
    if acl is not None and acl not in CANNED_ACLS:
        raise S3Error("InvalidArgument", f"Invalid canned ACL {acl!r}", 400, ArgumentName="x-amz-acl",
                      ArgumentValue=str(acl))


def page_size(params: dict[str, Any], member: str, wire: str, most: int) -> int:
    """A listing's page size (``max-keys``, ``max-parts``, ``max-uploads``): InvalidArgument when negative,
    as on S3; ``most`` when absent or larger."""
    value = params.get(member, most)
    if value < 0:
        raise invalid_argument(f"{wire} must be a non-negative integer", wire, str(value))
    return int(min(value, most))


async def read_small_body(call: Call, limit: int) -> bytes:
    """A whole (XML) request body, with ``Content-MD5`` and any ``x-amz-checksum-*`` header verified."""
    length = call.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise S3Error("MaxMessageLengthExceeded", "Your request was too big.", 400)
    chunks = []
    size = 0
    try:
        async for chunk in call.request.stream():
            size += len(chunk)
            if size > limit:
                raise S3Error("MaxMessageLengthExceeded", "Your request was too big.", 400)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise ClientGone() from exc
    body = b"".join(chunks)
    checksums.check_payload_hash(checksums.signed_payload_hash(call.headers), hashlib.sha256(body).digest())
    md5 = call.params.get("ContentMD5")
    if md5 is not None and checksums.content_md5(md5) != hashlib.md5(body).digest():
        raise bad_digest()
    for algorithm in checksums.ALGORITHMS:
        value = call.headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value is not None:
            checksums.check_value(algorithm, value)
            if checksums.checksum_of(algorithm, body) != value:
                raise bad_digest(algorithm)
    return body


async def read_document(call: Call, parse: Parse, limit: int = XML_LIMIT) -> dict[str, Any]:
    """A small XML body (``read_small_body``) as the operation's payload members. A document that does
    not parse raises the protocol's ProtocolError, which the service answers as it answers an S3Error."""
    return parse(call, await read_small_body(call, limit))
