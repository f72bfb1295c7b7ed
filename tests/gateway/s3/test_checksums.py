"""Flexible checksums (verified, stored, returned) and aws-chunked bodies with trailing checksums."""

from __future__ import annotations

import base64
import io
import zlib
from typing import Any

import httpx
import pytest

from scones.gateway.s3 import checksums
from scones.gateway.s3.chunked import AwsChunkedDecoder
from scones.gateway.s3.errors import S3Error

from .conftest import RunningS3, error_of

BODY = b"The quick brown fox jumps over the lazy dog" * 100


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_checksum_stored_and_returned(client: Any, bucket: str, algorithm: str) -> None:
    put = client.put_object(Bucket=bucket, Key="k", Body=BODY, ChecksumAlgorithm=algorithm)
    expected = checksums.checksum_of(algorithm, BODY)
    assert put[f"Checksum{algorithm}"] == expected
    got = client.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got[f"Checksum{algorithm}"] == expected and got["ChecksumType"] == "FULL_OBJECT"
    assert client.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")[f"Checksum{algorithm}"] == expected
    # Not asked for: not sent.
    assert f"Checksum{algorithm}" not in client.head_object(Bucket=bucket, Key="k")


def test_known_check_values() -> None:
    # The algorithms' published check values for "123456789".
    assert checksums.new_hasher("CRC32C").digest() == b"\0\0\0\0"
    values = {a: checksums.checksum_of(a, b"123456789") for a in ("CRC32", "CRC32C", "CRC64NVME")}
    assert base64.b64decode(values["CRC32"]).hex() == "cbf43926"
    assert base64.b64decode(values["CRC32C"]).hex() == "e3069283"
    assert base64.b64decode(values["CRC64NVME"]).hex() == "ae8b14860a799888"


def test_default_checksum_when_none_sent(s3: RunningS3, client: Any, bucket: str) -> None:
    assert httpx.put(f"{s3.url}/{bucket}/plain", content=b"abc").status_code == 200
    got = client.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert got["ChecksumCRC64NVME"] == checksums.checksum_of("CRC64NVME", b"abc")


def test_wrong_and_malformed_checksums(s3: RunningS3, client: Any, bucket: str) -> None:
    wrong = checksums.checksum_of("CRC32", b"something else")
    response = httpx.put(f"{s3.url}/{bucket}/bad", content=BODY, headers={"x-amz-checksum-crc32": wrong})
    assert response.status_code == 400 and b"<Code>BadDigest</Code>" in response.content
    response = httpx.put(f"{s3.url}/{bucket}/bad", content=BODY, headers={"x-amz-checksum-sha256": "short"})
    assert response.status_code == 400 and b"<Code>InvalidRequest</Code>" in response.content
    response = httpx.put(f"{s3.url}/{bucket}/bad", content=BODY, headers={
        "x-amz-checksum-crc32": wrong, "x-amz-checksum-sha1": checksums.checksum_of("SHA1", BODY)})
    assert response.status_code == 400 and b"<Code>InvalidRequest</Code>" in response.content
    response = httpx.put(f"{s3.url}/{bucket}/bad", content=BODY, headers={"x-amz-sdk-checksum-algorithm": "MD4"})
    assert response.status_code == 400 and b"<Code>InvalidRequest</Code>" in response.content
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="bad"))["Status"] == 404
    assert list((s3.store / bucket).iterdir()) == []


def _chunked_body(data: bytes, algorithm: str) -> bytes:
    """The exact bytes botocore sends for a trailing checksum (its own AwsChunkedWrapper)."""
    from botocore.httpchecksum import _CHECKSUM_CLS, AwsChunkedWrapper

    wrapper = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=_CHECKSUM_CLS[algorithm.lower()],
                                checksum_name=f"x-amz-checksum-{algorithm.lower()}", chunk_size=1000)
    return wrapper.read()


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256"])
def test_aws_chunked_with_trailing_checksum(s3: RunningS3, client: Any, bucket: str, algorithm: str) -> None:
    body = _chunked_body(BODY, algorithm)
    headers = {"content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "x-amz-decoded-content-length": str(len(BODY)), "x-amz-trailer": f"x-amz-checksum-{algorithm.lower()}",
               "content-type": "text/plain"}
    response = httpx.put(f"{s3.url}/{bucket}/chunked", content=body, headers=headers)
    assert response.status_code == 200, response.text
    got = client.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got[f"Checksum{algorithm}"] == checksums.checksum_of(algorithm, BODY)
    assert got.get("ContentEncoding") is None  # the transfer's aws-chunked is not the object's encoding
    # A trailer that does not match the bytes.
    bad = body.replace(checksums.checksum_of(algorithm, BODY).encode(), checksums.checksum_of(algorithm, b"x").encode())
    response = httpx.put(f"{s3.url}/{bucket}/chunked-bad", content=bad, headers=headers)
    assert response.status_code == 400 and b"<Code>BadDigest</Code>" in response.content


def test_aws_chunked_with_chunk_signatures(s3: RunningS3, client: Any, bucket: str) -> None:
    sig = "0" * 64
    parts = [BODY[:2000], BODY[2000:]]
    body = b"".join(f"{len(p):x};chunk-signature={sig}\r\n".encode() + p + b"\r\n" for p in parts)
    body += f"0;chunk-signature={sig}\r\n\r\n".encode()
    response = httpx.put(f"{s3.url}/{bucket}/signed", content=body, headers={
        "content-encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(BODY))})
    assert response.status_code == 200, response.text
    assert client.get_object(Bucket=bucket, Key="signed")["Body"].read() == BODY
    # Declared length and the chunks disagree: nothing stored.
    response = httpx.put(f"{s3.url}/{bucket}/short", content=body, headers={
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(BODY) + 1)})
    assert response.status_code == 400 and b"<Code>IncompleteBody</Code>" in response.content


def test_chunked_decoder_any_split() -> None:
    framed = _chunked_body(BODY, "CRC32")
    for step in (1, 7, 64, 5000):
        decoder = AwsChunkedDecoder()
        out = b"".join(b"".join(decoder.feed(framed[i:i + step])) for i in range(0, len(framed), step))
        assert out == BODY
        assert decoder.finish() == {"x-amz-checksum-crc32": checksums.checksum_of("CRC32", BODY)}


@pytest.mark.parametrize("framed", [b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"3\r\nabc\r\n",
                                    b"1\r\nX\r\n-6\r\n", b"0x3\r\nabc\r\n0\r\n\r\n", b"1_0\r\n"],
                         ids=["not-hex", "chunk-too-long", "no-final-chunk", "negative-size", "0x-size", "underscore"])
def test_chunked_decoder_refuses_bad_framing(framed: bytes) -> None:
    decoder = AwsChunkedDecoder()
    with pytest.raises(S3Error) as caught:
        decoder.feed(framed)
        decoder.finish()
    assert caught.value.code == "IncompleteBody"


def test_crc32_matches_zlib() -> None:
    assert checksums.checksum_of("CRC32", BODY) == base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()


def test_signed_payload_hash_is_checked(s3: RunningS3, client: Any, bucket: str) -> None:
    import hashlib

    wrong = hashlib.sha256(b"another body").hexdigest()
    response = httpx.put(f"{s3.url}/{bucket}/signed-body", content=BODY, headers={"x-amz-content-sha256": wrong})
    assert response.status_code == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in response.content
    right = hashlib.sha256(BODY).hexdigest()
    assert httpx.put(f"{s3.url}/{bucket}/signed-body", content=BODY,
                     headers={"x-amz-content-sha256": right}).status_code == 200
    assert httpx.put(f"{s3.url}/{bucket}/unsigned", content=BODY,
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}).status_code == 200
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="nothing"))["Status"] == 404
