"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat through the local endpoint, with AWS's refusals, and
executions that start executions (listed and described like any other)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import wait_for
from .server import Running
from .test_state_machines import error_of

#: Publishes the token (kept in the history, no local publisher in this gateway) and waits for an answer.
WAITS = json.dumps({"StartAt": "Ask", "States": {"Ask": {
    "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "TimeoutSeconds": 60,
    "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:reviews",
                   "Message": {"TaskToken.$": "$$.Task.Token", "image.$": "$.image"}}, "End": True}}})


def token_of(sfn: Any, execution_arn: str, timeout: float = 10) -> str:
    """The token the execution published, read back from its history (TaskScheduled's parameters)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in sfn.get_execution_history(executionArn=execution_arn)["events"]:
            if event["type"] == "TaskSubmitted":
                scheduled = next(e for e in sfn.get_execution_history(executionArn=execution_arn)["events"]
                                 if e["type"] == "TaskScheduled")
                parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
                return str(parameters["Message"]["TaskToken"])
        time.sleep(0.02)
    raise AssertionError("the execution never submitted its task")


@pytest.mark.timeout(60)
def test_success_with_heartbeats_resumes_the_execution(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(WAITS), input='{"image": "x.png"}')["executionArn"]
    token = token_of(sfn, arn)
    assert sfn.send_task_heartbeat(taskToken=token)["ResponseMetadata"]["HTTPStatusCode"] == 200
    sfn.send_task_success(taskToken=token, output='{"label": "motorcycle"}')
    described = wait_for(sfn, arn)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '{"label":"motorcycle"}')
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    # the token is spent: answering again is TaskTimedOut, as on AWS
    for answer in (lambda: sfn.send_task_success(taskToken=token, output="{}"),
                   lambda: sfn.send_task_failure(taskToken=token, error="E"),
                   lambda: sfn.send_task_heartbeat(taskToken=token)):
        with pytest.raises(ClientError) as exc:
            answer()
        assert error_of(exc) == ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", 400)


@pytest.mark.timeout(60)
def test_failure_fails_the_execution_with_the_error_and_cause(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(WAITS), input='{"image": "x.png"}')["executionArn"]
    sfn.send_task_failure(taskToken=token_of(sfn, arn), error="Rejected", cause="not a vehicle")
    described = wait_for(sfn, arn)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Rejected", "not a vehicle")


@pytest.mark.timeout(60)
def test_tokens_of_a_stopped_execution_time_out(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(WAITS), input='{"image": "x.png"}')["executionArn"]
    token = token_of(sfn, arn)
    sfn.stop_execution(executionArn=arn, error="Stopped")
    with pytest.raises(ClientError) as exc:
        sfn.send_task_success(taskToken=token, output="{}")
    assert error_of(exc)[0] == "TaskTimedOut"


def test_refusals_are_worded_as_aws_words_them(sfn: Any) -> None:
    from scones.workflow.asl.callbacks import issue_token

    with pytest.raises(ClientError) as exc:
        sfn.send_task_heartbeat(taskToken="FakeTaskToken")
    assert error_of(exc) == ("InvalidToken", "Invalid Token: 'Invalid token'", 400)
    unknown = issue_token("arn:aws:states:us-east-1:123456789012:execution:nobody:nothing", "S")
    with pytest.raises(ClientError) as exc:
        sfn.send_task_success(taskToken=unknown, output="{}")
    assert error_of(exc)[0] == "TaskDoesNotExist"


@pytest.mark.timeout(60)
def test_output_that_is_not_json_is_invalid_output(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(WAITS), input='{"image": "x.png"}')["executionArn"]
    token = token_of(sfn, arn)
    with pytest.raises(ClientError) as exc:
        sfn.send_task_success(taskToken=token, output="{not json")
    assert error_of(exc)[0] == "InvalidOutput"
    sfn.send_task_success(taskToken=token, output='"fine"')  # still waiting: a good answer goes through
    assert wait_for(sfn, arn)["output"] == '"fine"'


@pytest.mark.timeout(60)
def test_children_started_by_an_execution_are_listed_and_described(sfn: Any, machine: Callable[..., str],
                                                                   gateway: Running) -> None:
    child = machine(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    parent = machine(json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Name": "nested",
                       "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "End": True}}}))
    arn = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    (listed,) = sfn.list_executions(stateMachineArn=child)["executions"]
    assert listed["executionArn"] == output["ExecutionArn"] and listed["name"] == "nested"
    child_described = sfn.describe_execution(executionArn=output["ExecutionArn"])
    assert json.loads(child_described["input"]) == {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": arn}
    assert output["Input"] == json.loads(child_described["input"]) and output["Status"] == "SUCCEEDED"


def test_standard_machines_take_callbacks_and_sync_jobs(sfn: Any, machine: Callable[..., str]) -> None:
    """Refused for EXPRESS (test_state_machines), served for STANDARD."""
    assert machine(WAITS).startswith("arn:aws:states:")
