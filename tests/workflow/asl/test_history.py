"""Execution history: event types, order and shapes of GetExecutionHistory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scones.store import LocalStore
from scones.workflow.asl import CallableLambdaInvoker, FakeClock, load_execution, run_execution

from .helpers import run


def scones_functions() -> dict[str, Any]:
    return {
        "serializeImageData": lambda e, c: {"statusCode": 200, "body": {"image_data": "aGk=", "s3_key": e["s3_key"],
                                                                         "inferences": []}},
        "classifyImage": lambda e, c: {"statusCode": 200, "body": {**e["body"], "inferences": [0.9, 0.1]}},
        "filterInferences": lambda e, c: {"statusCode": 200, "body": e["body"]},
    }


def test_recorded_workflow_history_matches_awss_sequence(shared_data: Path) -> None:
    definition = (shared_data / "aws-recorded" / "stepfunction.json").read_text(encoding="utf-8")
    execution = run_execution(definition, {"s3_bucket": "b", "s3_key": "test/x.png"},
                              invoker=CallableLambdaInvoker(scones_functions()), clock=FakeClock())
    events = execution.events()
    # 17 events, as in the real console export (docs/aws-facts.md, Step Functions: history events)
    assert [e["type"] for e in events] == (["ExecutionStarted"] + ["TaskStateEntered", "TaskScheduled", "TaskStarted",
                                                                   "TaskSucceeded", "TaskStateExited"] * 3
                                           + ["ExecutionSucceeded"])
    assert [e["id"] for e in events] == list(range(1, 18))
    scheduled = events[2]["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda" and scheduled["resource"] == "invoke"
    assert json.loads(scheduled["parameters"]) == {
        "FunctionName": "arn:aws:lambda:us-east-1:148908537034:function:serializeImageData:$LATEST",
        "Payload": {"s3_bucket": "b", "s3_key": "test/x.png"}}
    succeeded = json.loads(events[4]["taskSucceededEventDetails"]["output"])
    assert list(succeeded) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    exited = events[5]["stateExitedEventDetails"]
    assert exited["name"] == "Lambda Invoke" and json.loads(exited["output"]) == succeeded["Payload"]
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"])["body"]["inferences"] == [0.9, 0.1]
    assert events[0]["executionStartedEventDetails"]["inputDetails"] == {"truncated": False}


def test_failed_task_without_catch_ends_with_task_failed_and_execution_failed() -> None:
    def boom(event: Any, context: Any) -> Any:
        raise RuntimeError("nope")

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "Parameters": {"FunctionName": "boom"}, "End": True}}}
    events = run(definition, {}, functions={"boom": boom}).events()
    assert [e["type"] for e in events] == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                           "TaskFailed", "ExecutionFailed"]
    failed = events[4]["taskFailedEventDetails"]
    assert failed["error"] == "RuntimeError" and json.loads(failed["cause"])["errorMessage"] == "nope"
    assert events[5]["executionFailedEventDetails"]["error"] == "RuntimeError"


def test_lambda_function_arn_uses_lambda_function_events() -> None:
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True}}}
    events = run(definition, {"a": 1}, functions={"f": lambda e, c: 1}).events()
    assert [e["type"] for e in events][2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted",
                                                "LambdaFunctionSucceeded"]
    assert json.loads(events[2]["lambdaFunctionScheduledEventDetails"]["input"]) == {"a": 1}


def test_map_and_parallel_events() -> None:
    definition = {"StartAt": "M", "States": {
        "M": {"Type": "Map", "Next": "P", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "End": True}}}},
        "P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "B", "States": {
            "B": {"Type": "Pass", "End": True}}}]}}}
    types = [e["type"] for e in run(definition, [1]).events()]
    assert types == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted",
                     "PassStateEntered", "PassStateExited", "MapIterationSucceeded", "MapStateSucceeded",
                     "MapStateExited", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered",
                     "PassStateExited", "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_assigned_variables_are_recorded_on_state_exit() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": {"y": 1}}, "End": True}}}
    exited = run(definition, {}).events()[2]["stateExitedEventDetails"]
    assert exited["assignedVariables"] == {"x": "{\"y\":1}"}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


def test_previous_event_ids_chain_within_a_thread() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}}}
    events = run(definition, {}).events()
    assert [e["previousEventId"] for e in events] == [0, 1, 2, 3, 4, 5]


def test_execution_is_persisted_once_and_loaded_back(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "executions")
    execution = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"k": "v"},
                    store=store, name="my-run")
    assert store.list() == ["my-run.json"]
    loaded = load_execution(store, execution.execution_arn)
    assert loaded.status == execution.status and loaded.output == {"k": "v"}
    assert loaded.events() == execution.events()
    assert loaded.describe()["name"] == "my-run"


def test_execution_names_are_unique_in_a_store(tmp_path: Path) -> None:
    import pytest

    from scones.workflow.asl.errors import InputError

    store = LocalStore(tmp_path / "executions")
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    run(definition, {}, store=store, name="once")
    with pytest.raises(InputError, match="Execution Already Exists"):
        run(definition, {}, store=store, name="once")


def test_persisted_text_is_exactly_the_json_of_the_rendered_history() -> None:
    """The one-pass writer and ``to_aws`` + ``json.dumps`` must agree to the character."""
    from scones.workflow.asl.executor import execution_json_text

    definition = {"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Call", "States": {
                    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
                             "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, "Assign": {"seen.$": "$.v"},
                             "End": True}}},
                "Next": "Both"},
        "Both": {"Type": "Parallel", "Next": "Same", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "é \"quoted\" \u2028", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
        "Same": {"Type": "Pass", "Next": "Boom"},
        "Boom": {"Type": "Fail", "Error": "Bad\"Thing", "Cause": "ünïcode\ncause"}}}

    def echo(event: Any, context: Any) -> Any:
        return {"v": event["v"], "text": "tab\there", "n": 1.5e300}

    execution = run(definition, {"items": [1, "two", {"three": [3]}, None]}, functions={"echo": echo})
    assert execution.status.value == "FAILED"
    text = execution_json_text(execution)
    assert text == json.dumps(execution.to_json(), ensure_ascii=False, separators=(",", ":"))
    assert execution_json_text(execution) == text  # again, now from the cached events
