"""Presigned URLs (SigV4 in the query string, as ``generate_presigned_url`` makes them).

The expiry is always enforced (``X-Amz-Date`` + ``X-Amz-Expires``, at most a week): an expired URL is
403 ``AccessDenied`` "Request has expired", as on S3. The signature is checked only when the server
knows the secrets (``credentials``: access key -> secret key); the check is a plug-in
(``SignatureCheck``) so the gateway's own SigV4 verifier can take over, and ``sigv4_query_matches`` is
the built-in one.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol
from urllib.parse import quote, unquote

from scones.gateway.protocols.rest_xml import iso8601
from scones.gateway.s3.errors import S3Error, access_denied

REQUIRED: Final = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                   "X-Amz-Signature")
MAX_EXPIRES: Final = 7 * 24 * 3600


@dataclass(frozen=True)
class PresignedRequest:
    """What a SigV4 query signature covers."""

    method: str
    raw_path: str  # as sent, percent-encoded
    raw_query: str  # as sent
    headers: Mapping[str, str]  # lower-case names
    access_key: str
    scope: str  # date/region/service/aws4_request
    amz_date: str
    signed_headers: tuple[str, ...]
    signature: str


class SignatureCheck(Protocol):
    def __call__(self, request: PresignedRequest, secret_key: str) -> bool: ...


def _query_error(message: str) -> S3Error:
    return S3Error("AuthorizationQueryParametersError", message, 400)


def is_presigned(query: Mapping[str, list[str]]) -> bool:
    return "X-Amz-Signature" in query or "X-Amz-Credential" in query or "Signature" in query


def check_presigned(method: str, raw_path: str, raw_query: str, query: Mapping[str, list[str]],
                    headers: Mapping[str, str], credentials: Mapping[str, str] | None,
                    check: SignatureCheck) -> None:
    if "Signature" in query and "X-Amz-Signature" not in query:
        _check_sigv2_expiry(query)
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
    secret = credentials.get(access_key)
    if secret is None:
        raise S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403,
                      AWSAccessKeyId=access_key)
    request = PresignedRequest(method, raw_path, raw_query, headers, access_key, scope, get["X-Amz-Date"],
                               tuple(get["X-Amz-SignedHeaders"].split(";")), get["X-Amz-Signature"])
    if not check(request, secret):
        raise S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                      "you provided. Check your key and signing method.", 403, AWSAccessKeyId=access_key)


def _check_sigv2_expiry(query: Mapping[str, list[str]]) -> None:
    try:
        expires = int(query.get("Expires", [""])[0])
    except ValueError:
        raise access_denied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                            "parameters") from None
    if time.time() > expires:
        raise access_denied("Request has expired", Expires=iso8601(expires), ServerTime=iso8601(time.time()))


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


def sigv4_query_matches(request: PresignedRequest, secret_key: str) -> bool:
    """The built-in check: S3's SigV4 query signature (unsigned payload, the path as sent)."""
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
