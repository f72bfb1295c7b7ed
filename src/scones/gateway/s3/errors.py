"""S3's errors as values: each carries its AWS code, HTTP status, message and the extra elements S3 adds
(``<Key>``, ``<BucketName>``...). One exception type; the service turns it into the ``<Error>`` body in
one place. The constructors below hold S3's own wording, so every path that says "no such key" says it
the same way.
"""

from __future__ import annotations

from typing import Final

from scones.gateway.protocols.values import ProtocolError


class S3Error(ProtocolError):
    """An S3 error answer: ``code`` and ``status`` as AWS sends them, ``fields`` as extra XML elements."""


#: Five GiB: the largest single PutObject or part S3 accepts.
MAX_PUT_SIZE: Final = 5 * 1024**3
#: Parts other than the last must hold at least this much (S3's EntityTooSmall).
MIN_PART_SIZE: Final = 5 * 1024**2


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload "
                   "may have been aborted or completed.", 404, UploadId=upload_id)


def invalid_argument(message: str, name: str, value: str) -> S3Error:
    return S3Error("InvalidArgument", message, 400, ArgumentName=name, ArgumentValue=value)


def invalid_bucket_name(bucket: str, why: str = "The specified bucket is not valid.") -> S3Error:
    return S3Error("InvalidBucketName", why, 400, BucketName=bucket)


def access_denied(message: str = "Access Denied", **fields: str) -> S3Error:
    return S3Error("AccessDenied", message, 403, **fields)


def malformed_xml(detail: str = "") -> S3Error:
    message = "The XML you provided was not well-formed or did not validate against our published schema"
    return S3Error("MalformedXML", f"{message} ({detail})" if detail else message, 400)


def not_implemented(what: str) -> S3Error:
    return S3Error("NotImplemented", f"{what} is not implemented by the local S3", 501)


def bad_digest(what: str = "Content-MD5") -> S3Error:
    return S3Error("BadDigest", f"The {what} you specified did not match the calculated checksum.", 400)


def entity_too_large(size: int, limit: int = MAX_PUT_SIZE) -> S3Error:
    return S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
                   ProposedSize=str(size), MaxSizeAllowed=str(limit))


def precondition_failed(condition: str) -> S3Error:
    return S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                   Condition=condition)
