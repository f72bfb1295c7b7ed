"""Presigned URLs: SigV4 (``X-Amz-*`` query parameters) and SigV2 (``AWSAccessKeyId``/``Signature``/
``Expires``, what boto3's ``generate_presigned_url`` makes for S3 unless told ``signature_version="s3v4"``).

The expiry is always enforced (``X-Amz-Date`` + ``X-Amz-Expires`` at most a week, or ``Expires``): an
expired URL is 403 ``AccessDenied`` "Request has expired", as on S3. The signature is checked only when
the server knows the secrets (``credentials``: access key -> secret key); the check is a plug-in
(``SignatureCheck``) so the gateway's own verifier can take over; ``presigned_signature_matches`` is the
built-in one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol
from urllib.parse import quote, unquote

from botocore.auth import HmacV1QueryAuth

from scones.gateway.protocols.values import iso8601
from scones.gateway.s3.errors import S3Error, access_denied

REQUIRED: Final = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                   "X-Amz-Signature")
MAX_EXPIRES: Final = 7 * 24 * 3600
#: The sub-resources a SigV2 signature covers (botocore's list, the signer's side of the same rule).
SIGV2_SUBRESOURCES: Final = frozenset(HmacV1QueryAuth.QSAOfInterest)


@dataclass(frozen=True)
class PresignedRequest:
    """What a query signature covers."""

    version: int  # 4 or 2
    method: str
    raw_path: str  # as sent, percent-encoded
    bucket_path: str  # the same path, path-style (what SigV2 signs)
    raw_query: str  # as sent
    headers: Mapping[str, str]  # lower-case names
    access_key: str
    scope: str  # SigV4: date/region/service/aws4_request
    amz_date: str  # SigV4: X-Amz-Date; SigV2: Expires
    signed_headers: tuple[str, ...]  # SigV4
    signature: str


class SignatureCheck(Protocol):
    def __call__(self, request: PresignedRequest, secret_key: str) -> bool: ...


def _query_error(message: str) -> S3Error:
    return S3Error("AuthorizationQueryParametersError", message, 400)


def is_presigned(query: Mapping[str, list[str]]) -> bool:
    return "X-Amz-Signature" in query or "X-Amz-Credential" in query or "Signature" in query


def check_presigned(method: str, raw_path: str, bucket_path: str, raw_query: str, query: Mapping[str, list[str]],
                    headers: Mapping[str, str], credentials: Mapping[str, str] | None,
                    check: SignatureCheck) -> None:
    if "Signature" in query and "X-Amz-Signature" not in query:
        expires = _check_sigv2_expiry(query)
        if credentials is not None:
            access_key = query.get("AWSAccessKeyId", [""])[0]
            request = PresignedRequest(2, method, raw_path, bucket_path, raw_query, headers, access_key, "",
                                       str(expires), (), query["Signature"][0])
            _check_signature(request, credentials, check)
        return
    missing = [k for k in REQUIRED if k not in query]
    if missing:
        raise _query_error("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                           "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
    get = {k: query[k][0] for k in REQUIRED}
    if get["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise _query_error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    try:
        signed_at = datetime.strptime(get["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        expires = int(get["X-Amz-Expires"])
    except ValueError:
        raise _query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and "
                           "X-Amz-Expires a number of seconds") from None
    if expires < 0:
        raise _query_error("X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        raise _query_error("X-Amz-Expires must be less than a week (in seconds) that is; 604800")
    now = time.time()
    if now > signed_at + expires:
        raise access_denied("Request has expired", **{"X-Amz-Expires": str(expires),
                                                        "Expires": iso8601(signed_at + expires),
                                                        "ServerTime": iso8601(now)})
    if credentials is None:
        return
    access_key, _, scope = get["X-Amz-Credential"].partition("/")
    request = PresignedRequest(4, method, raw_path, bucket_path, raw_query, headers, access_key, scope,
                               get["X-Amz-Date"], tuple(get["X-Amz-SignedHeaders"].split(";")), get["X-Amz-Signature"])
    _check_signature(request, credentials, check)


def _check_signature(request: PresignedRequest, credentials: Mapping[str, str], check: SignatureCheck) -> None:
    secret = credentials.get(request.access_key)
    if secret is None:
        raise S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403,
                      AWSAccessKeyId=request.access_key)
    if not check(request, secret):
        raise S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                      "you provided. Check your key and signing method.", 403, AWSAccessKeyId=request.access_key)


def _check_sigv2_expiry(query: Mapping[str, list[str]]) -> int:
    try:
        expires = int(query.get("Expires", [""])[0])
    except ValueError:
        raise access_denied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                            "parameters") from None
    if "AWSAccessKeyId" not in query:
        raise access_denied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                            "parameters")
    if time.time() > expires:
        raise access_denied("Request has expired", Expires=iso8601(expires), ServerTime=iso8601(time.time()))
    return expires


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        key, value = unquote(key.replace("+", " ")), unquote(value.replace("+", " "))
        if key != "X-Amz-Signature":
            pairs.append((_uri_encode(key), _uri_encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def presigned_signature_matches(request: PresignedRequest, secret_key: str) -> bool:
    """The built-in check of both signature versions."""
    if request.version == 2:
        return sigv2_query_matches(request, secret_key)
    return sigv4_query_matches(request, secret_key)


def sigv2_query_matches(request: PresignedRequest, secret_key: str) -> bool:
    """S3's SigV2 query signature: HMAC-SHA1 over method, MD5, type, expiry, x-amz-* and the resource."""
    params = [tuple(p.split("=", 1)) if "=" in p else (p,) for p in request.raw_query.split("&") if p]
    query = {unquote(p[0]): unquote(p[1]) if len(p) > 1 else None for p in params}
    standard = [query.get("Content-MD5") or request.headers.get("content-md5", ""),
                query.get("Content-Type") or request.headers.get("content-type", ""), request.amz_date]
    custom = {k: v.strip() for k, v in request.headers.items() if k.startswith("x-amz-")}
    custom.update({k.lower(): (v or "").strip() for k, v in query.items() if k.lower().startswith("x-amz-")})
    resource = request.bucket_path
    interesting = sorted((k, v) for k, v in query.items() if k in SIGV2_SUBRESOURCES)
    if interesting:
        resource += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in interesting)
    lines = [request.method, *[v.strip() for v in standard], *(f"{k}:{custom[k]}" for k in sorted(custom)), resource]
    digest = hmac.new(secret_key.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode("ascii"), request.signature)


def sigv4_query_matches(request: PresignedRequest, secret_key: str) -> bool:
    """S3's SigV4 query signature (unsigned payload, the path as sent)."""
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n"
                      for name in request.signed_headers)
    payload = request.headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    if "X-Amz-Content-Sha256" in request.raw_query:
        payload = "UNSIGNED-PAYLOAD"
    canonical = "\n".join([request.method, request.raw_path or "/", canonical_query(request.raw_query), headers,
                           ";".join(request.signed_headers), payload])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", request.amz_date, request.scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    date, region, service, _ = (request.scope.split("/") + ["", "", "", ""])[:4]
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.signature)
