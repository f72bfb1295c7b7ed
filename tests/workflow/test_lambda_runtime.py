from __future__ import annotations

import io
import json
import os
import time
import zipfile
from typing import Any

import pytest

from scones.aws.package import build_function_zip, build_zip
from scones.errors import WorkflowError
from scones.workflow.lambda_runtime import FunctionConfig, LocalLambdaRuntime, parse_function_name

try:
    from scones.workflow.asl.lambda_integration import LambdaServiceError
except ModuleNotFoundError:
    from scones.workflow._lambda_contract import LambdaServiceError


def echo(event: Any, context: Any) -> Any:
    return {"event": event, "name": context.function_name, "request": context.aws_request_id,
            "arn": context.invoked_function_arn, "memory": context.memory_limit_in_mb,
            "remaining": context.get_remaining_time_in_millis(), "env": os.environ.get("GREETING")}


class Boom(Exception):
    pass


def boom(event: Any, context: Any) -> Any:
    raise Boom("it broke")


def returns_bytes(event: Any, context: Any) -> Any:
    return {"image_data": b"abc"}


def sleeps(event: Any, context: Any) -> Any:
    time.sleep(event["seconds"])
    return "done"


def exits(event: Any, context: Any) -> Any:
    raise SystemExit(2)


def huge(event: Any, context: Any) -> Any:
    return "x" * (6 * 1024 * 1024 + 10)


@pytest.fixture
def runtime() -> Any:
    functions = [
        FunctionConfig("echo", echo, environment={"GREETING": "hello"}, timeout_seconds=5, memory_mb=256),
        FunctionConfig("boom", boom),
        FunctionConfig("bytes", returns_bytes),
        FunctionConfig("sleepy", sleeps, timeout_seconds=0.3),
        FunctionConfig("huge", huge),
        FunctionConfig("exits", exits),
    ]
    with LocalLambdaRuntime(functions) as rt:
        yield rt


@pytest.mark.parametrize("name", [
    "echo", "echo:$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:echo",
    "arn:aws:lambda:us-east-1:148908537034:function:echo:$LATEST", "148908537034:function:echo",
])
def test_invoke_by_name_or_arn(runtime: LocalLambdaRuntime, name: str) -> None:
    result = runtime.invoke(name, {"a": [1, 2]})
    assert result.function_error is None and result.status_code == 200
    assert result.executed_version == "$LATEST"
    payload = result.payload
    assert payload["event"] == {"a": [1, 2]}
    assert payload["name"] == "echo" and payload["request"] == result.request_id
    assert payload["arn"].endswith(":function:echo") and payload["memory"] == 256
    assert 0 < payload["remaining"] <= 5000
    assert payload["env"] == "hello"


def test_environment_restored_after_close() -> None:
    os.environ.pop("GREETING", None)
    with LocalLambdaRuntime([FunctionConfig("echo", echo, environment={"GREETING": "hi"})]) as rt:
        assert rt.invoke("echo", None).payload["env"] == "hi"
    assert "GREETING" not in os.environ


def test_conflicting_environments_refused_in_process() -> None:
    with pytest.raises(WorkflowError, match="--isolated"):
        LocalLambdaRuntime([FunctionConfig("a", echo, environment={"X": "1"}),
                            FunctionConfig("b", echo, environment={"X": "2"})])


def test_handler_exception_is_unhandled_function_error(runtime: LocalLambdaRuntime) -> None:
    result = runtime.invoke("boom", {})
    assert result.status_code == 200 and result.function_error == "Unhandled"
    assert list(result.payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert result.payload["errorMessage"] == "it broke" and result.payload["errorType"] == "Boom"
    assert result.payload["requestId"] == result.request_id
    assert any("raise Boom" in frame for frame in result.payload["stackTrace"])


def test_bytes_result_is_marshal_error(runtime: LocalLambdaRuntime) -> None:
    result = runtime.invoke("bytes", {})
    assert result.function_error == "Unhandled"
    assert result.payload == {"errorMessage": "Unable to marshal response: Object of type bytes is not JSON serializable",
                              "errorType": "Runtime.MarshalError"}


def test_timeout_enforced(runtime: LocalLambdaRuntime) -> None:
    result = runtime.invoke("sleepy", {"seconds": 3})
    assert result.function_error == "Unhandled"
    assert result.payload["errorMessage"].endswith(f"{result.request_id} Task timed out after 0.30 seconds")
    assert "errorType" not in result.payload
    assert runtime.invoke("sleepy", {"seconds": 0}).payload == "done"


def test_exit_in_handler_is_runtime_exit_error(runtime: LocalLambdaRuntime) -> None:
    result = runtime.invoke("exits", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.ExitError"


def test_oversized_response_and_request(runtime: LocalLambdaRuntime) -> None:
    result = runtime.invoke("huge", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Function.ResponseSizeTooLarge"
    with pytest.raises(LambdaServiceError) as info:
        runtime.invoke("echo", {"blob": "y" * (6 * 1024 * 1024)})
    assert info.value.error == "Lambda.RequestTooLargeException"


@pytest.mark.parametrize("name", ["nope", "echo:7", "arn:aws:lambda:us-east-1:1:function:nope:$LATEST"])
def test_unknown_function_is_resource_not_found(runtime: LocalLambdaRuntime, name: str) -> None:
    with pytest.raises(LambdaServiceError) as info:
        runtime.invoke(name, {})
    assert info.value.error == "Lambda.ResourceNotFoundException"
    assert "Function not found" in info.value.cause


def test_qualifier_mismatch_and_bad_arn() -> None:
    assert parse_function_name("f", "$LATEST") == ("f", "$LATEST")
    with pytest.raises(LambdaServiceError):
        parse_function_name("f:1", "2")
    with pytest.raises(LambdaServiceError):
        parse_function_name("arn:aws:s3:::bucket")


def test_in_process_missing_handler_module() -> None:
    with LocalLambdaRuntime([FunctionConfig("ghost", "no_such_module_xyz.lambda_handler")]) as rt:
        result = rt.invoke("ghost", {})
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module_xyz" in result.payload["errorMessage"]


# -- isolated mode -----------------------------------------------------------------

NEEDS_NUMPY = b"import numpy\n\ndef lambda_handler(event, context):\n    return 1\n"
CHATTY = (b"import sys, time\n\ndef lambda_handler(event, context):\n"
          b"    print('hello from the handler')\n"
          b"    if event.get('sleep'):\n        time.sleep(event['sleep'])\n"
          b"    if event.get('exit'):\n        sys.exit(3)\n"
          b"    return {'path0': sys.path[0], 'remaining': context.get_remaining_time_in_millis(),\n"
          b"            'scones': 'scones' in sys.modules, 'env': __import__('os').environ.get('GREETING')}\n")


def isolated(configs: list[FunctionConfig]) -> LocalLambdaRuntime:
    return LocalLambdaRuntime(configs, isolated=True)


@pytest.mark.slow
def test_isolated_missing_dependency_is_import_error() -> None:
    with isolated([FunctionConfig("np", "app.lambda_handler", package=build_zip({"app.py": NEEDS_NUMPY}))]) as rt:
        result = rt.invoke("np", {})
    assert result.function_error == "Unhandled"
    assert result.payload == {"errorMessage": "Unable to import module 'app': No module named 'numpy'",
                              "errorType": "Runtime.ImportModuleError"}


@pytest.mark.slow
def test_isolated_handler_without_helper_in_zip_fails() -> None:
    members = {"scones/__init__.py": b"", "scones/functions/__init__.py": b"",
               "scones/functions/filter_inferences.py": zipfile.ZipFile(
                   io.BytesIO(build_function_zip("filterInferences"))).read("scones/functions/filter_inferences.py")}
    config = FunctionConfig("filterInferences", "scones.functions.filter_inferences.lambda_handler",
                            package=build_zip(members))
    with isolated([config]) as rt:
        result = rt.invoke("filterInferences", {})
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    assert "scones.functions.helper" in result.payload["errorMessage"]


@pytest.mark.slow
def test_isolated_warm_worker_prints_timeout_and_exit() -> None:
    config = FunctionConfig("chatty", "app.lambda_handler", environment={"GREETING": "hej"},
                            timeout_seconds=1.0, package=build_zip({"app.py": CHATTY}))
    with isolated([config]) as rt:
        first = rt.invoke("chatty", {})
        assert first.function_error is None, first.payload
        assert first.payload["scones"] is False and first.payload["env"] == "hej"
        assert first.payload["path0"].endswith("chatty")
        pids = list(rt.workers())
        assert rt.invoke("chatty", {}).function_error is None
        assert list(rt.workers()) == pids  # the same warm worker served both

        slow = rt.invoke("chatty", {"sleep": 5})
        assert slow.function_error == "Unhandled"
        assert slow.payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
        assert list(rt.workers()) == []  # the timed-out worker was killed

        exited = rt.invoke("chatty", {"exit": True})
        assert exited.payload["errorType"] == "Runtime.ExitError"
        assert "exit status 3" in exited.payload["errorMessage"]
        assert rt.invoke("chatty", {}).function_error is None  # a fresh worker takes over


@pytest.mark.slow
def test_isolated_scones_filter_runs_from_its_zip() -> None:
    config = FunctionConfig("filterInferences", "scones.functions.filter_inferences.lambda_handler",
                            environment={"THRESHOLD": "0.9"}, package=build_function_zip("filterInferences"))
    body = {"image_data": "aGk=", "s3_bucket": "b", "s3_key": "k.png", "inferences": [0.95, 0.05]}
    with isolated([config]) as rt:
        ok = rt.invoke("filterInferences", {"body": body})
        low = rt.invoke("filterInferences", {"body": {**body, "inferences": [0.6, 0.4]}})
    assert ok.payload == {"statusCode": 200, "body": body}
    assert low.function_error == "Unhandled"
    assert low.payload["errorType"] == "ThresholdConfidenceNotMet"
    assert low.payload["errorMessage"] == "THRESHOLD_CONFIDENCE_NOT_MET"
    assert json.dumps(low.payload)
