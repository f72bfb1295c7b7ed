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
from scones.lambda_runtime.contract import LambdaServiceError
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.runtime import LocalLambdaRuntime


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
    # Short sleeps: the handler returns to Python code often, where an in-process timeout can stop it.
    end = time.monotonic() + event["seconds"]
    while time.monotonic() < end:
        time.sleep(0.01)
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
    # AWS's runtime reports its own faults during an invocation with the request id and an empty stack.
    assert result.payload == {"errorMessage": "Unable to marshal response: Object of type bytes is not JSON "
                                              "serializable", "errorType": "Runtime.MarshalError",
                              "requestId": result.request_id, "stackTrace": []}


@pytest.mark.parametrize("result", [float("nan"), {"p": [float("inf")]}])
def test_non_json_numbers_are_a_marshal_error(result: Any) -> None:
    """NaN and Infinity are not JSON: the state machine could not read them, so the invoke fails."""
    with LocalLambdaRuntime([FunctionConfig("nan", lambda event, context: result)]) as rt:
        answer = rt.invoke("nan", {})
    assert answer.function_error == "Unhandled"
    assert answer.payload == {"errorMessage": "Unable to marshal response: Out of range float values are not JSON "
                                              "compliant", "errorType": "Runtime.MarshalError",
                              "requestId": answer.request_id, "stackTrace": []}


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


def test_qualifier_mismatch_and_bad_arn(runtime: LocalLambdaRuntime) -> None:
    assert runtime.invoke("echo", {}, qualifier="$LATEST").function_error is None
    for name, qualifier in (("echo:1", "2"), ("arn:aws:s3:::bucket", None)):
        with pytest.raises(LambdaServiceError) as info:
            runtime.invoke(name, {}, qualifier=qualifier)
        assert info.value.error == "Lambda.InvalidParameterValueException"


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


# -- containers and timeouts -----------------------------------------------------

CONTAINER_MODULE = '''
import time

INITS = []
INITS.append(time.monotonic())  # module-level code: runs once per container (cold start)
CALLS = {"n": 0}


def lambda_handler(event, context):
    if event.get("spin"):
        try:
            while True:  # pure Python: the runtime's ContainerStopped lands here
                pass
        finally:
            with open(event["marker"], "w") as fh:
                fh.write("stopped")
    CALLS["n"] += 1
    return {"calls": CALLS["n"], "inits": len(INITS)}
'''


@pytest.fixture
def container_handler(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"scones_container_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(CONTAINER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{name}.lambda_handler"


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_warm_container_keeps_module_state(container_handler: str) -> None:
    with LocalLambdaRuntime([FunctionConfig("counter", container_handler)]) as rt:
        assert [rt.invoke("counter", {}).payload["calls"] for _ in range(3)] == [1, 2, 3]
    # A new runtime is a new container: the module runs again, its state starts empty.
    with LocalLambdaRuntime([FunctionConfig("counter", container_handler)]) as rt:
        assert rt.invoke("counter", {}).payload == {"calls": 1, "inits": 1}


@pytest.mark.parametrize("strict", [False, True], ids=["inline", "strict"])
def test_timeout_stops_the_handler_and_the_next_call_gets_a_fresh_container(
        container_handler: str, tmp_path: Any, strict: bool) -> None:
    marker = tmp_path / "stopped.txt"
    with LocalLambdaRuntime([FunctionConfig("counter", container_handler, timeout_seconds=0.3)],
                            strict_timeouts=strict) as rt:
        assert rt.invoke("counter", {}).payload["calls"] == 1
        assert rt.invoke("counter", {}).payload["calls"] == 2
        result = rt.invoke("counter", {"spin": True, "marker": str(marker)})
        assert result.function_error == "Unhandled"
        assert result.payload["errorMessage"].endswith("Task timed out after 0.30 seconds")
        assert wait_for(marker.exists)  # the overrunning handler was stopped, not left spinning
        # Like AWS after a timeout: a new execution environment, module state from scratch.
        assert rt.invoke("counter", {}).payload == {"calls": 1, "inits": 1}


def test_strict_timeouts_answer_on_time_while_the_handler_blocks() -> None:
    release = __import__("threading").Event()

    def blocks(event: Any, context: Any) -> Any:
        release.wait()  # one blocking C call: an in-process timeout cannot interrupt it
        return "late"

    with LocalLambdaRuntime([FunctionConfig("blocks", blocks, timeout_seconds=0.2)], strict_timeouts=True) as rt:
        result = rt.invoke("blocks", {})
        release.set()
    assert result.payload["errorMessage"].endswith("Task timed out after 0.20 seconds")


# -- concurrency limit -----------------------------------------------------------

def test_concurrency_limit_throttles_like_lambda() -> None:
    import threading

    release = threading.Event()

    def waits(event: Any, context: Any) -> Any:
        release.wait(10)
        return event

    functions = [FunctionConfig("waits", waits, timeout_seconds=10, reserved_concurrency=1),
                 FunctionConfig("echo", echo)]
    with LocalLambdaRuntime(functions, max_concurrency=5) as rt:
        first = threading.Thread(target=rt.invoke, args=("waits", 1))
        first.start()
        assert wait_for(lambda: rt.in_flight("waits") == 1)
        with pytest.raises(LambdaServiceError) as exc:
            rt.invoke("waits", 2)
        assert exc.value.error == "Lambda.TooManyRequestsException"
        assert "Status Code: 429" in exc.value.cause
        assert rt.invoke("echo", {}).function_error is None  # other functions are not throttled
        release.set()
        first.join()
        assert rt.in_flight("waits") == 0
        assert rt.invoke("waits", 3).payload == 3  # capacity is back
        assert rt.throttled == 1


def test_concurrency_limit_must_be_positive() -> None:
    with pytest.raises(WorkflowError):
        LocalLambdaRuntime([FunctionConfig("echo", echo)], max_concurrency=0)


SLOW_ZIP_HANDLER = (b"import time\n\ndef lambda_handler(event, context):\n"
                    b"    time.sleep(event['seconds'])\n    return event['seconds']\n")


def test_isolated_mode_throttles_beyond_its_limit_instead_of_waiting() -> None:
    import threading

    config = FunctionConfig("slow", "app.lambda_handler", timeout_seconds=20,
                            package=build_zip({"app.py": SLOW_ZIP_HANDLER}))
    with LocalLambdaRuntime([config], isolated=True, max_concurrency=1) as rt:
        results: list[Any] = []
        first = threading.Thread(target=lambda: results.append(rt.invoke("slow", {"seconds": 1.5})))
        first.start()
        assert wait_for(lambda: rt.in_flight("slow") == 1)
        with pytest.raises(LambdaServiceError) as exc:
            rt.invoke("slow", {"seconds": 0})
        assert exc.value.error == "Lambda.TooManyRequestsException"
        first.join()
        assert results[0].payload == 1.5
        assert rt.invoke("slow", {"seconds": 0}).payload == 0


def test_throttled_task_is_retried_by_the_state_machine() -> None:
    """Lambda.TooManyRequestsException is a Lambda *service* error: the Scones Retry covers it."""
    import threading

    from scones.workflow.asl import run_execution
    from scones.workflow.asl.clock import FakeClock
    from scones.workflow.definitions import load_definition

    release = threading.Event()

    def busy(event: Any, context: Any) -> Any:
        release.wait(10)
        return {"statusCode": 200, "body": event}

    class ReleasingClock(FakeClock):
        def sleep(self, seconds: float) -> None:  # the retry's back-off: the earlier invocation ends meanwhile
            super().sleep(seconds)
            release.set()
            wait_for(lambda: rt.in_flight("serializeImageData") == 0)

    definition = load_definition("scones")
    functions = [FunctionConfig("serializeImageData", busy, timeout_seconds=10, reserved_concurrency=1)]
    with LocalLambdaRuntime(functions) as rt:
        holder = threading.Thread(target=rt.invoke, args=("serializeImageData", {}))
        holder.start()
        assert wait_for(lambda: rt.in_flight("serializeImageData") == 1)
        clock = ReleasingClock()
        # Only the first state (with its Retry, as shipped) matters here: the machine ends after it.
        first = {k: v for k, v in definition["States"]["SerializeImageData"].items() if k not in ("Next", "Catch")}
        definition["States"] = {"SerializeImageData": {**first, "End": True}}
        execution = run_execution(definition, {"s3_bucket": "b", "s3_key": "k"}, invoker=rt, clock=clock)
        holder.join()
    assert execution.status.value == "SUCCEEDED", (execution.error, execution.cause)
    assert clock.sleeps  # it waited once, as the Retry says
    failed = [e for e in execution.events() if e.get("type") == "TaskFailed"]
    assert failed and failed[0]["taskFailedEventDetails"]["error"] == "Lambda.TooManyRequestsException"
