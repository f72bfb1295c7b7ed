"""SigV4 signature checks, for a gateway bound to an address other people can reach.

On loopback every request is trusted (local development has one principal, and
boto3 signs with whatever placeholder keys it has). Bound anywhere else, the
gateway knows one access key and its secret, and recomputes each request's
signature with botocore's own signer, from the request exactly as it arrived:
the raw path and query, the headers the client listed as signed, and the
payload hash (``x-amz-content-sha256``, or the SHA-256 of the body). A mismatch
gets the service's own answer: S3's ``SignatureDoesNotMatch`` (403) or the JSON
services' ``InvalidSignatureException`` (403).

What is not checked: the per-chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``
bodies (the seed signature over the headers is), and clock skew.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from scones.gateway.errors import error_response
from scones.gateway.routing import Service

ALGORITHM: Final = "AWS4-HMAC-SHA256"
_AUTHORIZATION: Final = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]*)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class Credentials:
    """The one access key the gateway accepts, with its secret."""

    access_key: str
    secret_key: str


@dataclass(frozen=True)
class SignedRequest:
    """What a client claims about its signature (from the Authorization header or a presigned URL)."""

    access_key: str
    timestamp: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool


class SignatureVerifier:
    """Checks every request against ``credentials`` (the gateway's ``RequestVerifier``)."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    async def check(self, service: Service, request: Request) -> Response | None:
        """None when the signature is right; else the service's error answer. Reads the body of non-S3
        requests (their payload hash is not in a header); S3 bodies stay unread, to be streamed.

        S3's presigned URLs (SigV4 ``X-Amz-Signature`` or SigV2 ``Signature``, boto3's default for S3) are
        left to the S3 service, which checks their expiry and signature with the same keys.
        """
        if service is Service.S3 and "authorization" not in request.headers and (
                "X-Amz-Signature" in request.query_params or "Signature" in request.query_params):
            return None
        s3 = service is Service.S3
        claim = read_claim(request)
        if claim is None:
            return error_response(service, "AccessDenied" if s3 else "MissingAuthenticationToken",
                                  "Access Denied: the request is not signed" if s3
                                  else "Request is missing Authentication Token", 403)
        if claim.access_key != self.credentials.access_key:
            return error_response(service, "InvalidAccessKeyId" if s3 else "UnrecognizedClientException",
                                  "The AWS Access Key Id you provided does not exist in our records." if s3
                                  else "The security token included in the request is invalid.", 403)
        body = b"" if s3 else await request.body()
        expected = expected_signature(request, claim, self.credentials.secret_key, body, s3)
        # As bytes: compare_digest refuses str with non-ASCII characters, which a presigned query may carry.
        if expected is None or not hmac.compare_digest(expected.encode(), claim.signature.encode()):
            return error_response(service, "SignatureDoesNotMatch" if s3 else "InvalidSignatureException",
                                  "The request signature we calculated does not match the signature you provided. "
                                  "Check your key and signing method.", 403)
        return None


def read_claim(request: Request) -> SignedRequest | None:
    """The signature fields of a request, from its Authorization header or its presigned query."""
    header = request.headers.get("authorization")
    if header:
        m = _AUTHORIZATION.match(header)
        if m is None:
            return None
        return SignedRequest(m["key"], request.headers.get("x-amz-date", ""), m["region"], m["service"],
                             tuple(m["headers"].split(";")), m["signature"], presigned=False)
    query = dict(parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True))
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        return None
    parts = query.get("X-Amz-Credential", "").split("/")
    if len(parts) != 5:
        return None
    return SignedRequest(parts[0], query.get("X-Amz-Date", ""), parts[2], parts[3],
                         tuple(query.get("X-Amz-SignedHeaders", "host").split(";")),
                         query.get("X-Amz-Signature", ""), presigned=True)


def expected_signature(request: Request, claim: SignedRequest, secret_key: str, body: bytes,
                       s3: bool) -> str | None:
    """The signature botocore's signer computes for this request as it arrived; None when the request
    lacks a header it claims to have signed."""
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    if any(name not in request.headers for name in claim.signed_headers):
        return None
    headers = {name: request.headers[name] for name in claim.signed_headers}
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode("latin-1")
    query = request.scope["query_string"].decode("latin-1")
    if claim.presigned:
        query = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "X-Amz-Signature"])
    # The signer reads the host from the signed ``host`` header; in the URL it would be parsed, and a host
    # such as ``[x`` is a ValueError there rather than a signature that does not match.
    url = f"http://localhost{raw_path.decode('latin-1')}" + (f"?{query}" if query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=body)
    aws_request.context["timestamp"] = claim.timestamp
    credentials = BotoCredentials(claim.access_key, secret_key)
    signer: SigV4Auth
    if claim.presigned:
        signer = (S3SigV4QueryAuth if s3 else SigV4QueryAuth)(credentials, claim.service, claim.region)
    else:
        signer = (S3SigV4Auth if s3 else SigV4Auth)(credentials, claim.service, claim.region)
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))
