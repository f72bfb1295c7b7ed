"""The checksums S3 verifies, stores and returns: MD5 (ETags, ``Content-MD5``) and the flexible checksums
current SDKs send (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256).

CRC32C and CRC64NVME come from ``awscrt`` (the AWS Common Runtime, which botocore itself uses for them);
CRC32 from zlib, the SHAs from hashlib. Values travel as base64 of the big-endian digest. A multipart
object's checksum is either COMPOSITE (the checksum of the concatenated part digests, ``-N`` appended)
or FULL_OBJECT (a CRC of the whole object, combined from the parts' CRCs without reading them again).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from awscrt import checksums as crt  # type: ignore[import-untyped]

from scones.gateway.s3.errors import S3Error

ALGORITHMS: Final = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CRC_ALGORITHMS: Final = ("CRC32", "CRC32C", "CRC64NVME")
#: What S3 stores for an object uploaded without any checksum.
DEFAULT_ALGORITHM: Final = "CRC64NVME"
_DIGEST_SIZES: Final = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A running CRC with hashlib's ``update``/``digest`` interface."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.value = 0
        self._size = _DIGEST_SIZES[algorithm]
        if algorithm == "CRC32":
            self._step = zlib.crc32
        elif algorithm == "CRC32C":
            self._step = crt.crc32c
        else:
            self._step = crt.crc64nvme

    def update(self, data: bytes | memoryview, /) -> None:
        self.value = self._step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._size, "big")


def new_hasher(algorithm: str) -> Hasher:
    if algorithm in CRC_ALGORITHMS:
        return _Crc(algorithm)
    if algorithm == "SHA1":
        return hashlib.sha1()
    return hashlib.sha256()


def checksum_of(algorithm: str, data: bytes) -> str:
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return encode(hasher.digest())


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def check_algorithm(name: str) -> str:
    """``crc32`` -> ``CRC32``; InvalidRequest for algorithms S3 does not offer here."""
    upper = name.upper()
    if upper not in ALGORITHMS:
        raise S3Error("InvalidRequest", f"Checksum algorithm {name!r} is not supported here "
                      f"(use one of {', '.join(ALGORITHMS)})", 400)
    return upper


def check_value(algorithm: str, value: str) -> str:
    """A client's checksum value, checked for shape: S3 answers InvalidRequest to one that is not
    base64 of the algorithm's digest size."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _DIGEST_SIZES[algorithm]:
        raise S3Error("InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.", 400)
    return value


def verify(algorithm: str, expected: str, digest: bytes) -> None:
    if encode(digest) != expected:
        raise S3Error("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)


def content_md5(value: str) -> bytes:
    """The digest a ``Content-MD5`` header announces; InvalidDigest when it is not base64 of 16 bytes."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.", 400, Content_MD5=value)
    return raw


def composite(algorithm: str, part_digests: Sequence[bytes]) -> str:
    """S3's COMPOSITE multipart checksum: the checksum of the concatenated part digests, then ``-N``."""
    hasher = new_hasher(algorithm)
    for digest in part_digests:
        hasher.update(digest)
    return f"{encode(hasher.digest())}-{len(part_digests)}"


def combine(algorithm: str, parts: Sequence[tuple[bytes, int]]) -> str:
    """The FULL_OBJECT CRC of the parts' concatenation, from each part's (digest, length)."""
    if algorithm not in CRC_ALGORITHMS:
        raise S3Error("InvalidRequest", f"The FULL_OBJECT checksum type is not supported for {algorithm}", 400)
    size = _DIGEST_SIZES[algorithm]
    join = {"CRC32": crt.combine_crc32, "CRC32C": crt.combine_crc32c, "CRC64NVME": crt.combine_crc64nvme}[algorithm]
    value = 0
    for index, (digest, length) in enumerate(parts):
        crc = int.from_bytes(digest, "big")
        value = crc if index == 0 else join(value, crc, length)
    return encode(value.to_bytes(size, "big"))


def decode(value: str) -> bytes:
    return base64.b64decode(value.partition("-")[0])


def signed_payload_hash(headers: Mapping[str, str]) -> str | None:
    """The body's SHA-256 a signed request announces (``x-amz-content-sha256``), when it announces one
    (not ``UNSIGNED-PAYLOAD`` nor a ``STREAMING-*`` mode)."""
    value = headers.get("x-amz-content-sha256", "").lower()
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None


def check_payload_hash(expected: str | None, computed: bytes) -> None:
    if expected is not None and computed.hex() != expected:
        raise S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what "
                      "was computed.", 400, ClientComputedContentSHA256=expected,
                      S3ComputedContentSHA256=computed.hex())
