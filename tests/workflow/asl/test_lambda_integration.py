from __future__ import annotations

import json
from typing import Any

import pytest

from scones.workflow.asl import CallableLambdaInvoker, LambdaServiceError

from .helpers import run

INVOKE = "arn:aws:states:::lambda:invoke"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def echo(event: Any, context: Any) -> Any:
    return {"got": event, "fn": context.function_name}


def boom(event: Any, context: Any) -> Any:
    raise ValueError("THRESHOLD_CONFIDENCE_NOT_MET")


@pytest.mark.parametrize("name", ["echo", "echo:$LATEST", f"{FN_ARN}", f"{FN_ARN}:$LATEST",
                                  "123456789012:function:echo"])
def test_callable_invoker_resolves_names_and_arns(name: str) -> None:
    result = CallableLambdaInvoker({"echo": echo}).invoke(name, {"a": 1})
    assert result.payload == {"got": {"a": 1}, "fn": "echo"}
    assert result.function_error is None and result.status_code == 200 and result.request_id


def test_callable_invoker_reports_function_errors_like_the_python_runtime() -> None:
    result = CallableLambdaInvoker({"boom": boom}).invoke("boom", {})
    assert result.function_error == "Unhandled"
    assert list(result.payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["requestId"] == result.request_id


def test_unknown_function_is_a_service_error() -> None:
    with pytest.raises(LambdaServiceError) as exc:
        CallableLambdaInvoker({}).invoke("nope", {})
    assert exc.value.error == "Lambda.ResourceNotFoundException"


def test_unserialisable_return_is_a_marshal_error() -> None:
    result = CallableLambdaInvoker({"b": lambda e, c: b"bytes"}).invoke("b", {})
    assert result.payload["errorType"] == "Runtime.MarshalError"


def test_nan_or_too_deep_return_is_a_marshal_error() -> None:
    deep: list[object] = []
    for _ in range(2000):
        deep = [deep]
    for value in (float("nan"), {"x": float("-inf")}, deep):
        result = CallableLambdaInvoker({"b": lambda e, c, v=value: v}).invoke("b", {})
        assert result.function_error == "Unhandled" and result.payload["errorType"] == "Runtime.MarshalError"


def test_optimised_integration_returns_awss_result_object() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": INVOKE, "End": True,
                                                   "Parameters": {"FunctionName": FN_ARN + ":$LATEST",
                                                                  "Payload": {"k.$": "$.k"}}}}}
    output = run(definition, {"k": 7}, functions={"echo": echo}).output
    assert list(output) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    assert output["Payload"] == {"got": {"k": 7}, "fn": "echo"}
    assert output["StatusCode"] == 200 and output["ExecutedVersion"] == "$LATEST"
    meta = output["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    assert meta["HttpHeaders"]["x-amzn-RequestId"] == output["SdkResponseMetadata"]["RequestId"]
    assert meta["AllHttpHeaders"]["Content-Type"] == ["application/json"]


def test_plain_function_arn_passes_input_and_returns_bare_payload() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN_ARN, "End": True}}}
    assert run(definition, {"k": 1}, functions={"echo": echo}).output == {"got": {"k": 1}, "fn": "echo"}


def test_function_error_becomes_error_type_and_json_cause() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": INVOKE, "End": True,
                                                   "Parameters": {"FunctionName": "boom", "Payload.$": "$"}}}}
    execution = run(definition, {}, functions={"boom": boom})
    assert execution.error == "ValueError"
    cause = json.loads(execution.cause or "")
    assert cause["errorMessage"] == "THRESHOLD_CONFIDENCE_NOT_MET" and cause["errorType"] == "ValueError"


def test_service_error_is_reported_with_its_name() -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": INVOKE, "End": True,
                                                   "Parameters": {"FunctionName": "missing"}}}}
    execution = run(definition, {})
    assert execution.error == "Lambda.ResourceNotFoundException"


def test_unknown_resource_fails_at_validation() -> None:
    from scones.workflow.asl import validate_definition

    errors = validate_definition({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True,
                                                                   "Resource": "arn:aws:states:::sqs:sendMessage"}}})
    assert [(e.code, e.location) for e in errors] == [("INVALID_RESOURCE", "/States/T/Resource")]


def test_an_invoker_that_raises_is_an_sdk_client_exception() -> None:
    from scones.workflow.asl import FakeClock, run_execution

    class Down:
        def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> Any:
            raise ConnectionRefusedError("connection refused")

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": INVOKE, "End": True,
                                                   "Parameters": {"FunctionName": "f"}}}}
    execution = run_execution(definition, {}, invoker=Down(), clock=FakeClock())
    assert execution.error == "Lambda.SdkClientException"
    assert "connection refused" in (execution.cause or "")
