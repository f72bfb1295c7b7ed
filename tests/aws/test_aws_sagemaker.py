"""SageMaker paths moto cannot play (UpdateEndpoint, slow or failing start-up), with botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scones.aws.errors import AwsError
from scones.aws.naming import Names
from scones.aws.plan import Action
from scones.aws.sagemaker import (
    EndpointSpec,
    check_serving,
    data_capture_config,
    endpoint_config_request,
    ensure_endpoint,
    model_request,
    wait_for_endpoint,
)

NAMES = Names(prefix="scones", bucket="b", account="123456789012", region="us-east-1")


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Any]]:
    import boto3
    from botocore.stub import Stubber

    client = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y").client(
        "sagemaker", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def spec(**overrides: Any) -> EndpointSpec:
    values: dict[str, Any] = {"image_uri": "img:1", "model_data_url": "s3://b/scones/model/model.tar.gz",
                              "model_sha256": "a" * 64, "role_arn": NAMES.role_arn("sagemaker"),
                              "capture_uri": NAMES.capture_uri}
    values.update(overrides)
    return EndpointSpec(**values)


def describe(status: str, config: str = "scones-config-old", **extra: Any) -> dict[str, Any]:
    import datetime

    now = datetime.datetime(2026, 1, 1)
    return {"EndpointName": "scones-endpoint", "EndpointArn": NAMES.endpoint_arn, "EndpointConfigName": config,
            "EndpointStatus": status, "CreationTime": now, "LastModifiedTime": now, **extra}


def test_new_config_updates_the_endpoint_in_place(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_endpoint", describe("InService"), {"EndpointName": "scones-endpoint"})
    stubber.add_response("update_endpoint", {"EndpointArn": NAMES.endpoint_arn},
                         {"EndpointName": "scones-endpoint", "EndpointConfigName": "scones-config-new"})
    change = ensure_endpoint(client, "scones-endpoint", "scones-config-new", tags={}, apply=True)
    assert change.action is Action.UPDATE
    assert change.detail == "scones-config-old -> scones-config-new"


def test_dry_run_does_not_update(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_endpoint", describe("InService"), {"EndpointName": "scones-endpoint"})
    assert ensure_endpoint(client, "scones-endpoint", "scones-config-new", tags={}, apply=False).action \
        is Action.UPDATE


def test_failed_endpoint_is_updated_even_with_the_same_config(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_endpoint", describe("Failed", "scones-config-new"),
                         {"EndpointName": "scones-endpoint"})
    stubber.add_response("update_endpoint", {"EndpointArn": NAMES.endpoint_arn},
                         {"EndpointName": "scones-endpoint", "EndpointConfigName": "scones-config-new"})
    assert ensure_endpoint(client, "scones-endpoint", "scones-config-new", tags={}, apply=True).action \
        is Action.UPDATE


def test_wait_polls_until_in_service(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    for status in ("Creating", "Creating", "InService"):
        stubber.add_response("describe_endpoint", describe(status), {"EndpointName": "scones-endpoint"})
    slept: list[float] = []
    result = wait_for_endpoint(client, "scones-endpoint", poll_seconds=7, show_progress=False, sleep=slept.append)
    assert result["EndpointStatus"] == "InService"
    assert slept == [7, 7]


def test_wait_reports_the_failure_reason(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_endpoint", describe("Failed", FailureReason="health check /ping failed"),
                         {"EndpointName": "scones-endpoint"})
    with pytest.raises(AwsError, match="health check /ping failed") as exc:
        wait_for_endpoint(client, "scones-endpoint", show_progress=False, sleep=lambda s: None)
    assert "/aws/sagemaker/Endpoints/scones-endpoint" in exc.value.format_message()


def test_wait_gives_up_after_the_timeout(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    stubber.add_response("describe_endpoint", describe("Creating"), {"EndpointName": "scones-endpoint"})
    ticks = iter([0.0, 100.0])
    with pytest.raises(AwsError, match="still Creating"):
        wait_for_endpoint(client, "scones-endpoint", timeout_seconds=50, show_progress=False,
                          sleep=lambda s: None, clock=lambda: next(ticks))


def test_names_follow_content() -> None:
    base = model_request(spec(), NAMES)
    assert model_request(spec(), NAMES)["ModelName"] == base["ModelName"]
    assert model_request(spec(model_sha256="b" * 64), NAMES)["ModelName"] != base["ModelName"]
    config = endpoint_config_request(spec(), NAMES, base["ModelName"])
    assert endpoint_config_request(spec(sampling_percentage=50), NAMES, base["ModelName"])["EndpointConfigName"] \
        != config["EndpointConfigName"]
    assert config["DataCaptureConfig"] == data_capture_config(spec())


def test_sampling_outside_range_is_refused() -> None:
    with pytest.raises(AwsError, match="outside 0-100"):
        data_capture_config(spec(sampling_percentage=101))


def test_rolled_back_update_is_an_error() -> None:
    check_serving(describe("InService", "scones-config-new"), "scones-config-new")
    with pytest.raises(AwsError, match="rolled back \\(image not found\\)"):
        check_serving(describe("InService", "scones-config-old", FailureReason="image not found"), "scones-config-new")
