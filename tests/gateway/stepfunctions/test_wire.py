"""What reaches the wire before any operation runs: unknown operations, malformed bodies, the model's
constraints. Always a 400 (or 501 for an operation not served here) in Step Functions' error shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .server import Running
from .test_state_machines import error_of

JSON_1_0 = "application/x-amz-json-1.0"


def post(gateway: Running, target: str, body: bytes | str) -> httpx.Response:
    return httpx.post(gateway.url, content=body, timeout=10,
                      headers={"X-Amz-Target": target, "Content-Type": JSON_1_0})


@pytest.mark.parametrize(("target", "body", "status", "code"), [
    ("AWSStepFunctions.NoSuchThing", "{}", 400, "UnknownOperationException"),
    ("AWSStepFunctions.", "{}", 400, "UnknownOperationException"),
    ("AWSStepFunctions.ListStateMachines", "{not json", 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", "[1, 2]", 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", b"\xff\xfe", 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", '{"maxResults": "ten"}', 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", '{"maxResults": NaN}', 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", '{"maxResults": Infinity}', 400, "SerializationException"),
    ("AWSStepFunctions.ListStateMachines", '{"maxResults": 1e400}', 400, "SerializationException"),
    ("AWSStepFunctions.DescribeExecution", "{}", 400, "ValidationException"),
    ("AWSStepFunctions.CreateActivity", '{"name": "a"}', 501, "NotImplemented"),
], ids=["unknown", "empty-name", "malformed", "not-an-object", "not-utf8", "wrong-type", "nan", "infinity",
        "too-large-a-number", "missing-member", "not-served"])
def test_bad_requests_get_the_error_shape_never_a_500(gateway: Running, target: str, body: str, status: int,
                                                      code: str) -> None:
    response = post(gateway, target, body)
    assert response.status_code == status
    assert response.headers["content-type"] == JSON_1_0 and response.headers["x-amzn-requestid"]
    document = response.json()
    assert document["__type"] == code and document["message"]


def test_an_empty_body_is_an_empty_request(gateway: Running) -> None:
    assert post(gateway, "AWSStepFunctions.ListStateMachines", "").status_code == 200


def test_every_broken_constraint_is_listed_as_aws_words_it(gateway: Running) -> None:
    """botocore validates before sending; a client that does not (another SDK, curl) meets the server's checks."""
    sfn = gateway.client(parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        sfn.list_executions(stateMachineArn="", statusFilter="succeeded", maxResults=-1)
    code, message, status = error_of(exc)
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "3 validation errors detected: Value '' at 'stateMachineArn' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1; Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member "
        "must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]; Value '-1' "
        "at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0")
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(name="x")
    assert error_of(exc) == ("ValidationException", "1 validation error detected: Value null at 'stateMachineArn' "
                             "failed to satisfy constraint: Member must not be null", 400)


def test_timestamps_are_epoch_seconds_on_the_wire(gateway: Running) -> None:
    created = post(gateway, "AWSStepFunctions.CreateStateMachine", json.dumps({
        "name": "wire-timestamps", "roleArn": "arn:aws:iam::123456789012:role/r",
        "definition": json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})).json()
    assert isinstance(created["creationDate"], (int, float)) and created["creationDate"] > 1_600_000_000
    assert set(created) == {"stateMachineArn", "creationDate"}


def test_a_client_configured_for_another_region_still_finds_its_machines(gateway: Running) -> None:
    """One local region and account serve every client: ARNs are looked up by name."""
    import boto3

    sfn: Any = boto3.client("stepfunctions", endpoint_url=gateway.url, region_name="eu-west-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}))
    arn = sfn.create_state_machine(name="other-region", roleArn="arn:aws:iam::123456789012:role/r",
                                   definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass",
                                                                                          "End": True}}}))
    assert sfn.describe_state_machine(stateMachineArn=arn["stateMachineArn"].replace("us-east-1", "eu-west-1"))
