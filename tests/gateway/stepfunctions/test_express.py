"""EXPRESS state machines: StartSyncExecution (from unchanged code, through AWS_ENDPOINT_URL), their own
execution ARNs, and the history APIs refusing them as AWS does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import FAIL, PASS
from .server import Running
from .test_state_machines import error_of

EXPRESS_ARN = re.compile(r"^arn:aws:states:us-east-1:123456789012:express:(?P<machine>[^:]+):(?P<name>[^:]+):"
                         r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def from_environment(gateway: Running, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client made as unchanged code makes it: ``boto3.client("stepfunctions")``, the endpoint and the
    host-prefix setting from the environment."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    return boto3.client("stepfunctions")


def test_start_sync_execution_from_unchanged_code(from_environment: Any, machine: Callable[..., str]) -> None:
    arn = machine(PASS, "EXPRESS")
    result = from_environment.start_sync_execution(stateMachineArn=arn, name="sync-one", input='{"a": 1}')
    result.pop("ResponseMetadata")
    match = EXPRESS_ARN.match(result["executionArn"])
    assert match and match["machine"] == arn.rsplit(":", 1)[1] and match["name"] == "sync-one"
    assert result["stopDate"] >= result["startDate"]
    del result["startDate"], result["stopDate"], result["executionArn"]
    assert result == {
        "stateMachineArn": arn, "name": "sync-one", "status": "SUCCEEDED", "input": '{"a":1}',
        "inputDetails": {"included": True}, "output": '{"a":1,"one":{"n":1}}', "outputDetails": {"included": True},
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}}
    # Express names may be used again at once, each start being an execution of its own
    again = from_environment.start_sync_execution(stateMachineArn=arn, name="sync-one", input='{"a": 1}')
    assert again["status"] == "SUCCEEDED" and again["executionArn"] != match.string


def test_a_failed_sync_execution_is_a_200_with_error_and_cause(sfn: Any, machine: Callable[..., str]) -> None:
    result = sfn.start_sync_execution(stateMachineArn=machine(FAIL, "EXPRESS"))
    assert (result["ResponseMetadata"]["HTTPStatusCode"], result["status"], result["error"], result["cause"]) == \
        (200, "FAILED", "Broken", "on purpose")
    assert "output" not in result


def test_sync_executions_are_for_express_machines_only(sfn: Any, machine: Callable[..., str]) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.start_sync_execution(stateMachineArn=machine())
    assert error_of(exc) == ("StateMachineTypeNotSupported",
                             "This operation is not supported by this type of state machine", 400)


def test_started_express_executions_cannot_be_looked_at_through_the_history_apis(
        sfn: Any, machine: Callable[..., str]) -> None:
    arn = machine(PASS, "EXPRESS")
    started = sfn.start_execution(stateMachineArn=arn, input="{}")
    assert EXPRESS_ARN.match(started["executionArn"])
    refused = ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'", 400)
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution,
                 sfn.describe_state_machine_for_execution):
        with pytest.raises(ClientError) as exc:
            call(executionArn=started["executionArn"])
        assert error_of(exc) == refused, call
    with pytest.raises(ClientError) as exc:
        sfn.list_executions(stateMachineArn=arn)
    assert error_of(exc) == ("StateMachineTypeNotSupported",
                             "This operation is not supported by this type of state machine", 400)


def test_the_context_object_sees_the_express_arn(sfn: Any, machine: Callable[..., str]) -> None:
    definition = json.dumps({"StartAt": "Who", "States": {"Who": {
        "Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "role.$": "$$.Execution.RoleArn"}, "End": True}}})
    result = sfn.start_sync_execution(stateMachineArn=machine(definition, "EXPRESS"))
    output = json.loads(result["output"])
    assert output["id"] == result["executionArn"] and EXPRESS_ARN.match(output["id"])
    assert output["role"] == "arn:aws:iam::123456789012:role/test-sfn-role"
