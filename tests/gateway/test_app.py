"""The gateway's own answers (a service that failed, a service not served), read by boto3's parsers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import Response

from scones.gateway.app import Gateway
from scones.gateway.routing import Service
from scones.gateway.server import gateway_in_thread


class Broken:
    """A service whose every request fails with an exception it did not expect."""

    async def handle(self, request: Request) -> Response:
        raise RuntimeError("a bug in the service")

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with gateway_in_thread(Gateway({Service.S3: Broken(), Service.STEP_FUNCTIONS: Broken()})) as served:
        yield served


def client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                        aws_secret_access_key="s", config=Config(retries={"max_attempts": 1}))


@pytest.mark.parametrize(("service", "call", "code"), [
    ("s3", lambda c: c.list_buckets(), "InternalError"),
    ("stepfunctions", lambda c: c.list_state_machines(), "InternalFailure"),
])
def test_a_failing_service_answers_500_in_its_own_error_shape(url: str, service: str, call: Any, code: str) -> None:
    with pytest.raises(ClientError) as caught:
        call(client(url, service))
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, "The local service failed; see its log")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_service_not_served_is_named_in_its_own_error_shape(url: str) -> None:
    with pytest.raises(ClientError) as caught:
        client(url, "lambda").list_functions()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("UnknownOperationException", "lambda is not served here")


class FailingVerifier:
    async def check(self, service: Service, request: Request) -> Response | None:
        raise RuntimeError("a bug in the signature check")


def test_a_failing_signature_check_is_answered_like_a_failing_service() -> None:
    with gateway_in_thread(Gateway({Service.S3: Broken()}, verifier=FailingVerifier())) as url:
        with pytest.raises(ClientError) as caught:
            client(url, "s3").list_buckets()
    assert caught.value.response["Error"]["Code"] == "InternalError"
