"""What PutObject and UploadPart share: which checksum a request carries and where (a header, a trailer
after an aws-chunked body, or only its algorithm), how long its body is, and the checks of the body
received against ``Content-MD5`` and that checksum."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.gateway.s3 import checksums
from scones.gateway.s3.body import Received, receive
from scones.gateway.s3.call import Call
from scones.gateway.s3.errors import MAX_PUT_SIZE, S3Error, bad_digest, entity_too_large


@dataclass(frozen=True)
class ChecksumRequest:
    algorithm: str | None  # what the client asked for, if anything
    value: str | None  # the header's value (None: a trailer, or computed here)
    trailer: str | None  # the trailer name announced in x-amz-trailer


def requested_checksum(call: Call) -> ChecksumRequest:
    """The one flexible checksum of a write; InvalidRequest for two, or for an unknown algorithm."""
    found = [(a, call.headers[f"x-amz-checksum-{a.lower()}"]) for a in checksums.ALGORITHMS
             if f"x-amz-checksum-{a.lower()}" in call.headers]
    trailer = call.headers.get("x-amz-trailer", "").strip().lower() or None
    if trailer is not None:
        if not trailer.startswith("x-amz-checksum-"):
            raise S3Error("InvalidRequest", f"The trailer {trailer!r} is not supported", 400)
        found.append((checksums.check_algorithm(trailer.removeprefix("x-amz-checksum-")), ""))
    if len(found) > 1:
        raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are "
                      "not allowed.", 400)
    declared = call.params.get("ChecksumAlgorithm")
    if declared is not None:
        declared = checksums.check_algorithm(declared)
    if found:
        algorithm, value = found[0]
        if declared is not None and declared != algorithm:
            raise S3Error("InvalidRequest", f"Value for x-amz-sdk-checksum-algorithm header is invalid "
                          f"(it says {declared}, the checksum sent is {algorithm}).", 400)
        if value:
            checksums.check_value(algorithm, value)
        return ChecksumRequest(algorithm, value or None, trailer)
    return ChecksumRequest(declared, None, None)


def is_aws_chunked(call: Call) -> bool:
    encoding = call.headers.get("content-encoding", "")
    sha = call.headers.get("x-amz-content-sha256", "")
    return "aws-chunked" in encoding or sha.startswith("STREAMING-")


def content_encoding(params: dict[str, Any]) -> str | None:
    """The object's Content-Encoding once the transfer's ``aws-chunked`` is taken off."""
    value = params.get("ContentEncoding")
    if value is None:
        return None
    kept = [v.strip() for v in str(value).split(",") if v.strip() and v.strip() != "aws-chunked"]
    return ",".join(kept) or None


def expected_length(call: Call, chunked: bool) -> int | None:
    header = call.headers.get("x-amz-decoded-content-length") if chunked else call.headers.get("content-length")
    if header is None:
        return None
    try:
        length = int(header)
    except ValueError:
        raise S3Error("InvalidArgument", "The Content-Length you specified is not valid", 400) from None
    if length > MAX_PUT_SIZE:
        raise entity_too_large(length)
    if length < 0:
        raise S3Error("InvalidArgument", "The Content-Length you specified is not valid", 400)
    return length


async def receive_checked(call: Call, fd: int, tmp: Path, wanted: ChecksumRequest,
                          extra: tuple[str, ...] = ()) -> Received:
    """Stream the body into ``tmp`` (open as ``fd``) and check it; the file is removed when a check fails."""
    chunked = is_aws_chunked(call)
    algorithms = {a for a in (wanted.algorithm, *extra) if a}
    try:
        length = expected_length(call, chunked)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    payload_hash = None if chunked else checksums.signed_payload_hash(call.headers)
    received = await receive(call.request, fd, tmp, algorithms=algorithms, chunked=chunked, expected=length,
                             limit=MAX_PUT_SIZE, payload_sha256=payload_hash is not None)
    try:
        checksums.check_payload_hash(payload_hash, received.payload_sha256)
        verify(call.params, wanted, received)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return received


def verify(params: dict[str, Any], wanted: ChecksumRequest, received: Received) -> None:
    md5 = params.get("ContentMD5")
    if md5 is not None and checksums.content_md5(md5) != received.md5:
        raise bad_digest()
    if wanted.algorithm is None:
        return
    value = wanted.value
    if wanted.trailer is not None:
        value = received.trailers.get(wanted.trailer)
        if value is None:
            raise S3Error("InvalidRequest", f"The trailer {wanted.trailer} announced in x-amz-trailer was not "
                          "sent", 400)
        checksums.check_value(wanted.algorithm, value)
    if value is not None:
        checksums.verify(wanted.algorithm, value, received.digests[wanted.algorithm])
