"""The execution service holds every task token of its executions and runs the executions they start."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.executions import ExecutionRecords, ExecutionService
from scones.store import LocalStore
from scones.workflow.asl import CallableLambdaInvoker, ExecutionStatus
from scones.workflow.asl.callbacks import CallbackError, CallbackErrorKind, issue_token

ACCOUNT_ARN = "arn:aws:states:us-east-1:123456789012"
WAITS_FOR_REVIEW = {"StartAt": "Review", "States": {"Review": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 60,
    "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"child": True}, "End": True}}}
SLOW_CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}


def parent(resource: str, machine: str) -> dict[str, Any]:
    return {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": f"arn:aws:states:::states:startExecution{resource}",
        "Parameters": {"StateMachineArn": f"{ACCOUNT_ARN}:stateMachine:{machine}", "Name": "the-child",
                       "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
        "End": True}}}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ExecutionService]:
    records = ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")
    with ExecutionService(invoker=CallableLambdaInvoker({"notify": lambda event, context: {}}),
                          records=records) as owned:
        yield owned


def waiting_token(service: ExecutionService, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = service.callbacks.waiting()
        if waiting:
            return waiting[0].token
        time.sleep(0.01)
    raise AssertionError("no task waits for a callback")


@pytest.mark.timeout(60)
def test_an_answer_given_to_the_service_resumes_the_execution(service: ExecutionService) -> None:
    service.register("review", WAITS_FOR_REVIEW)
    run = service.start("review", {}, name="one")
    token = waiting_token(service)
    service.send_task_heartbeat(token)
    service.send_task_success(token, json.dumps({"label": "bicycle"}))
    assert run.done.wait(10) and run.record.output == {"label": "bicycle"}


@pytest.mark.timeout(60)
def test_a_stopped_executions_token_gets_task_timed_out_and_an_unknown_one_task_does_not_exist(
        service: ExecutionService) -> None:
    service.register("review", WAITS_FOR_REVIEW)
    run = service.start("review", {}, name="stopped")
    token = waiting_token(service)
    stopped = service.stop(run.record.execution_arn, error="Stopped")
    assert stopped.status is ExecutionStatus.ABORTED
    for answer in (lambda: service.send_task_success(token, "{}"), lambda: service.send_task_failure(token),
                   lambda: service.send_task_heartbeat(token)):
        with pytest.raises(CallbackError) as exc:
            answer()
        assert exc.value.kind is CallbackErrorKind.TASK_TIMED_OUT
    # a token of this service's execution after its record left memory: still TaskTimedOut (the execution is kept)
    forgotten = issue_token(run.record.execution_arn, "Review")
    with pytest.raises(CallbackError) as timed_out:
        service.send_task_success(forgotten, "{}")
    assert timed_out.value.kind is CallbackErrorKind.TASK_TIMED_OUT
    # a token no execution here issued
    with pytest.raises(CallbackError) as unknown:
        service.send_task_success(issue_token(f"{ACCOUNT_ARN}:execution:review:never", "Review"), "{}")
    assert unknown.value.kind is CallbackErrorKind.TASK_DOES_NOT_EXIST
    with pytest.raises(CallbackError) as invalid:
        service.send_task_success("AAAA", "{}")
    assert invalid.value.kind is CallbackErrorKind.INVALID_TOKEN


@pytest.mark.timeout(60)
@pytest.mark.parametrize("resource", ["", ".sync", ".sync:2"])
def test_children_are_executions_of_the_service(service: ExecutionService, resource: str) -> None:
    service.register("child", CHILD)
    service.register("parent", parent(resource, "child"))
    record = service.run("parent", {}, name="the-parent")
    assert record.status is ExecutionStatus.SUCCEEDED
    child = service.wait(f"{ACCOUNT_ARN}:execution:child:the-child", 10)
    assert child.status is ExecutionStatus.SUCCEEDED and child.output == {"child": True}
    assert child.input == {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": record.execution_arn}
    assert [s.name for s in service.list(state_machine="child").items] == ["the-child"]
    if resource:
        assert record.output["ExecutionArn"] == child.execution_arn and record.output["Status"] == "SUCCEEDED"


def test_a_child_of_an_unknown_state_machine_fails_the_task(service: ExecutionService) -> None:
    service.register("parent", parent(".sync", "missing"))
    record = service.run("parent", {})
    assert record.error == "StepFunctions.StateMachineDoesNotExistException"
    assert f"State Machine Does Not Exist: '{ACCOUNT_ARN}:stateMachine:missing'" in (record.cause or "")


def test_a_taken_child_name_fails_the_task_with_execution_already_exists(service: ExecutionService) -> None:
    service.register("child", CHILD)
    service.register("parent", parent("", "child"))
    assert service.run("parent", {}).status is ExecutionStatus.SUCCEEDED
    service.wait(f"{ACCOUNT_ARN}:execution:child:the-child", 10)
    again = service.run("parent", {})
    assert again.error == "StepFunctions.ExecutionAlreadyExistsException"
    assert f"Execution Already Exists: '{ACCOUNT_ARN}:execution:child:the-child'" in (again.cause or "")


@pytest.mark.timeout(60)
def test_stopping_the_parent_stops_its_sync_child(service: ExecutionService) -> None:
    service.register("slow", SLOW_CHILD)
    service.register("parent", parent(".sync", "slow"))
    run = service.start("parent", {}, name="waiting-parent")
    child_arn = f"{ACCOUNT_ARN}:execution:slow:the-child"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if service.describe(child_arn).status is ExecutionStatus.RUNNING:
                break
        except Exception:
            time.sleep(0.01)
    service.stop(run.record.execution_arn, error="Stop", cause="by the test")
    child = service.wait(child_arn, 10)
    assert child.status is ExecutionStatus.ABORTED
    assert "waiting-parent" in (child.cause or "")


@pytest.mark.parametrize("arn", [f"{ACCOUNT_ARN}:stateMachine", f"{ACCOUNT_ARN}:stateMachine:", "stateMachine:child"])
def test_a_state_machine_arn_without_a_name_fails_the_task_with_invalid_arn(service: ExecutionService,
                                                                          arn: str) -> None:
    """A definition's mistake: a Task error its Catch can take, not an internal error of the interpreter."""
    service.register("parent", {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": arn}, "End": True}}})
    record = service.run("parent", {})
    assert record.error == "StepFunctions.InvalidArnException" and arn in (record.cause or "")
