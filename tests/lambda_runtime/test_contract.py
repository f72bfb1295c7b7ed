"""The Lambda contract: the shapes AWS's Python runtime and Invoke API give, and the same from every invoker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scones.lambda_runtime import contract
from scones.lambda_runtime.contract import (
    MAX_PAYLOAD_BYTES,
    LambdaContext,
    LambdaServiceError,
    call_handler,
    exit_error,
    marshal,
    request_event,
)
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.runtime import LocalLambdaRuntime
from scones.workflow.asl import CallableLambdaInvoker


def context(request_id: str = "req-1") -> LambdaContext:
    return LambdaContext(function_name="f", invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                         memory_limit_in_mb=128, aws_request_id=request_id, deadline=time.monotonic() + 3)


def fails_deeper(event: Any) -> None:
    raise ValueError("deep")


def handler_that_fails(event: Any, ctx: Any) -> Any:
    fails_deeper(event)


def test_error_object_starts_at_the_handler_frame_with_newline_terminated_entries() -> None:
    payload, failed = call_handler(handler_that_fails, {}, context())
    assert failed
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (payload["errorMessage"], payload["errorType"], payload["requestId"]) == ("deep", "ValueError", "req-1")
    first, second = payload["stackTrace"]
    here = Path(__file__).resolve()
    assert first.startswith(f'  File "{here}", line ') and first.endswith(", in handler_that_fails\n"
                                                                          "    fails_deeper(event)\n")
    assert second.endswith(', in fails_deeper\n    raise ValueError("deep")\n')
    assert "^" not in "".join(payload["stackTrace"])  # AWS formats frames without column marks


def test_every_invoker_reports_the_same_error_object() -> None:
    via_callable = CallableLambdaInvoker({"f": handler_that_fails}).invoke("f", {}).payload
    with LocalLambdaRuntime([FunctionConfig("f", handler_that_fails)]) as rt:
        via_runtime = rt.invoke("f", {}).payload
    for payload in (via_callable, via_runtime):
        payload.pop("requestId")
    assert via_callable == via_runtime


@pytest.mark.parametrize("result", [b"bytes", {"x": float("nan")}, {1j}])
def test_marshal_error_carries_the_request_id_and_an_empty_stack(result: Any) -> None:
    payload, failed = marshal(result, "req-2")
    assert failed and payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"].startswith("Unable to marshal response: ")
    assert (payload["requestId"], payload["stackTrace"]) == ("req-2", [])


def test_marshal_returns_a_fresh_copy_as_json_would() -> None:
    result = {"a": [1, 2.5, None, True], "t": (1, 2), 3: "int key"}
    payload, failed = marshal(result, "r")
    assert not failed and payload == {"a": [1, 2.5, None, True], "t": [1, 2], "3": "int key"}
    assert payload["a"] is not result["a"]


def test_response_and_request_size_limits() -> None:
    payload, failed = marshal("x" * MAX_PAYLOAD_BYTES, "r")
    assert failed and payload["errorType"] == "Function.ResponseSizeTooLarge" and "requestId" not in payload
    with pytest.raises(LambdaServiceError) as info:
        request_event("x" * MAX_PAYLOAD_BYTES, "r")
    assert info.value.error == "Lambda.RequestTooLargeException" and "Request ID: r" in info.value.cause


def test_a_request_that_is_not_json_is_invalid_request_content() -> None:
    with pytest.raises(LambdaServiceError) as info:
        request_event({"x": float("nan")})
    assert info.value.error == "Lambda.InvalidRequestContentException"


@pytest.mark.parametrize(("status", "reason"), [
    (2, "Runtime exited with error: exit status 2"),
    (0, "Runtime exited without providing a reason"),
    (-9, "Runtime exited with error: signal: killed"),
])
def test_exit_error(status: int, reason: str) -> None:
    expected = {"errorMessage": f"RequestId: r Error: {reason}", "errorType": "Runtime.ExitError"}
    assert exit_error("r", status) == expected


@pytest.mark.parametrize(("handler", "error_type"), [
    ("nodot", "Runtime.MalformedHandlerName"),
    ("json.no_such_handler", "Runtime.HandlerNotFound"),
    ("no_such_module_xyz.handler", "Runtime.ImportModuleError"),
])
def test_handler_load_errors(handler: str, error_type: str) -> None:
    with pytest.raises(contract.HandlerInitError) as info:
        contract.load_handler(handler)
    assert info.value.error_object()["errorType"] == error_type


def test_context_has_the_python_runtimes_members() -> None:
    ctx = context("0123abcd-0000-0000-0000-000000000000")
    assert ctx.log_group_name == "/aws/lambda/f"
    assert ctx.log_stream_name.endswith("/[$LATEST]0123abcd000000000000000000000000")
    assert ctx.identity.cognito_identity_id is None and ctx.client_context is None
    assert 0 < ctx.get_remaining_time_in_millis() <= 3000


def test_contract_imports_nothing_from_scones_and_loads_by_path() -> None:
    """The isolated worker runs it in a clean interpreter, loaded from its file."""
    path = Path(contract.__file__)
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('c', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); sys.modules['c'] = m; spec.loader.exec_module(m); "
            "print(sorted(n for n in sys.modules if n.startswith('scones')))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(path)], capture_output=True, text=True,
                         check=True, env={"PATH": os.environ.get("PATH", "")}).stdout
    assert out.strip() == "[]"


class Level(int):
    pass


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("value", [
    {"statusCode": 200, "body": {"image_data": "aGk=" * 1000, "inferences": [0.25, 1e-300, -0.0, 1]}},
    ["é", "\ud800", "\U0001f600", "", None, True, False, 0, -(2 ** 63), 2 ** 64 + 1, 10 ** 30],
    {"tuple": (1, 2), 1: "int key", None: "null key", 2.5: "float key", False: "bool key"},
    {"sub": Level(3), "str": type("S", (str,), {})("s")},
    nested(63), nested(64), nested(300),
    "x" * (MAX_PAYLOAD_BYTES // 3),  # its quick size bound is over the limit, its real size is not
], ids=["scones", "scalars", "keys", "subclasses", "depth63", "depth64", "depth300", "big-string"])
def test_marshal_and_request_give_what_a_json_round_trip_gives(value: Any) -> None:
    import json

    expected = json.loads(json.dumps(value, allow_nan=False))
    assert marshal(value, "r") == (expected, False)
    assert request_event(value) == expected


def test_nesting_past_the_runtimes_recursion_limit_fails_whatever_this_process_allows() -> None:
    too_deep = nested(contract.MAX_NESTING + 1)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # what a library in the same process may have done
    try:
        payload, failed = marshal(too_deep, "r")
        assert failed and payload["errorType"] == "Runtime.MarshalError"
        assert "maximum recursion depth exceeded" in payload["errorMessage"]
        with pytest.raises(LambdaServiceError) as info:
            request_event(too_deep)
        assert info.value.error == "Lambda.InvalidRequestContentException"
        assert marshal(nested(contract.MAX_NESTING - 5), "r")[1] is False
    finally:
        sys.setrecursionlimit(limit)


def test_an_in_process_import_time_print_is_in_the_cold_invocation_log_only(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"scones_cold_print_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text("print('loading the model')\n\n"
                                         "def lambda_handler(event, context):\n    print('handled')\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with LocalLambdaRuntime([FunctionConfig("f", f"{name}.lambda_handler")]) as rt:
        cold, warm = rt.invoke("f", {}), rt.invoke("f", {})
    assert "loading the model\n" in cold.log and "handled\n" in cold.log
    assert "loading the model" not in warm.log and "handled\n" in warm.log
