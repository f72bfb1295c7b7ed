"""The Lambda API of ``scones up``, judged by boto3's own parser."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from scones.gateway.app import Gateway
from scones.gateway.lambda_api import LambdaService
from scones.gateway.routing import Service
from scones.gateway.server import gateway_in_thread
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.runtime import LocalLambdaRuntime

EVENTS: list[Any] = []


def echo(event: Any, context: Any) -> Any:
    print("echoing", json.dumps(event))
    EVENTS.append(event)
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    return {"got": event, "function": context.function_name}


@pytest.fixture(scope="module")
def lambda_client() -> Iterator[Any]:
    runtime = LocalLambdaRuntime([FunctionConfig("echo", echo, environment={"STAGE": "test"}, timeout_seconds=5),
                                  FunctionConfig("other", echo)])
    with gateway_in_thread(Gateway({Service.LAMBDA: LambdaService(runtime)})) as url:
        yield boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                           aws_secret_access_key="s", config=Config(retries={"max_attempts": 1}))
    runtime.close()


def test_invoke_returns_the_payload_and_the_log_tail(lambda_client: Any) -> None:
    answer = lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"got": {"a": 1}, "function": "echo"}
    log = base64.b64decode(answer["LogResult"]).decode()
    assert log.startswith("START RequestId: ") and 'echoing {"a": 1}' in log and "REPORT RequestId: " in log
    assert answer["ExecutedVersion"] == "$LATEST"


def test_a_raised_exception_is_a_function_error(lambda_client: Any) -> None:
    answer = lambda_client.invoke(FunctionName="arn:aws:lambda:us-east-1:999999999999:function:echo:$LATEST",
                                  Payload=b'{"fail": true}')
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "asked to fail"


def test_unknown_function_and_bad_payloads_are_aws_errors(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException, match="Function not found"):
        lambda_client.invoke(FunctionName="nope", Payload=b"{}")
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="echo", Payload=b"{not json")
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="echo", Payload=b'{"a": NaN}')
    with pytest.raises(lambda_client.exceptions.RequestTooLargeException):
        lambda_client.invoke(FunctionName="echo", Payload=b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"')


def test_event_and_dry_run_invocations(lambda_client: Any) -> None:
    EVENTS.clear()
    answer = lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"later": 1}')
    assert answer["StatusCode"] == 202
    deadline = time.monotonic() + 10
    while {"later": 1} not in EVENTS and time.monotonic() < deadline:
        time.sleep(0.01)
    assert {"later": 1} in EVENTS
    assert lambda_client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204


def test_list_and_get_functions(lambda_client: Any) -> None:
    listed = lambda_client.list_functions()["Functions"]
    assert [f["FunctionName"] for f in listed] == ["echo", "other"]
    paged = lambda_client.list_functions(MaxItems=1)
    assert len(paged["Functions"]) == 1 and paged["NextMarker"] == "other"
    got = lambda_client.get_function(FunctionName="echo")["Configuration"]
    assert got["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:echo"
    assert got["Timeout"] == 5 and got["Environment"]["Variables"] == {"STAGE": "test"}
    assert lambda_client.get_function_configuration(FunctionName="echo")["Runtime"] == "python3.12"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName="nope")


@pytest.mark.parametrize("max_items", [0, -1])
def test_a_page_size_below_one_is_a_validation_error(lambda_client: Any, max_items: int) -> None:
    unchecked = boto3.client("lambda", endpoint_url=lambda_client.meta.endpoint_url, region_name="us-east-1",
                             aws_access_key_id="k", aws_secret_access_key="s",
                             config=Config(retries={"max_attempts": 1}, parameter_validation=False))
    with pytest.raises(ClientError) as caught:
        unchecked.list_functions(MaxItems=max_items)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException" and f"Value '{max_items}' at 'maxItems'" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
