"""SigV4 checks on requests botocore would never send: refused with the service's 403, never an exception."""

from __future__ import annotations

import asyncio

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from starlette.requests import Request

from scones.gateway.routing import Service
from scones.gateway.sigv4 import Credentials, SignatureVerifier

VERIFIER = SignatureVerifier(Credentials("AKID", "secret"))
CREDENTIAL = "AKID/20250101/us-east-1/lambda/aws4_request"


def request(query: str, headers: dict[str, str]) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    path = "/2015-03-31/functions/"
    return Request({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
                    "query_string": query.encode(), "headers": [(k.encode(), v.encode()) for k, v in headers.items()]},
                   receive)


def check(query: str, headers: dict[str, str]) -> tuple[int, str]:
    response = asyncio.run(VERIFIER.check(Service.LAMBDA, request(query, headers)))
    assert response is not None
    return response.status_code, response.headers["x-amzn-ErrorType"]


@pytest.mark.parametrize(("query", "headers"), [
    (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}&X-Amz-Signature=%C3%A9", {"host": "h"}),
    (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}&X-Amz-Signature=ab", {"host": "[h"}),
    ("", {"host": "[h", "authorization": f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host, "
                                         f"Signature={'a' * 64}"}),
], ids=["non-ascii-signature", "bad-host-presigned", "bad-host-header"])
def test_a_malformed_signed_request_is_a_signature_mismatch(query: str, headers: dict[str, str]) -> None:
    assert check(query, headers) == (403, "InvalidSignatureException")


def test_a_request_signed_with_the_key_passes() -> None:
    signed = AWSRequest(method="GET", url="http://127.0.0.1:4566/2015-03-31/functions/",
                        headers={"host": "127.0.0.1:4566"})
    SigV4Auth(BotoCredentials("AKID", "secret"), "lambda", "us-east-1").add_auth(signed)
    headers = {k.lower(): str(v) for k, v in signed.headers.items()}
    assert asyncio.run(VERIFIER.check(Service.LAMBDA, request("", headers))) is None
