"""examples/classic and examples/classic-bugs: what their templates declare, and what the check says about them.

The handlers run here in-process against stub boto3 clients and the Lambda contract (marshalling, error
objects), which records what each received and returned; the end-to-end runs through ``scones workflow run``
and ``scones up`` live with the CLI.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
import time
import types
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.declarations import FunctionSpec, Origin
from scones.executions.plan import RunPlan
from scones.lambda_runtime.contract import ErrorType, LambdaContext, call_handler, runtime_error
from scones.templates import load_template
from scones.workflow.check import ClassicBug, Invocation, Severity, check_invocations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLASSIC = EXAMPLES / "classic"
BUGS = EXAMPLES / "classic-bugs"
FUNCTIONS = ("serializeImageData", "classifyImage", "filterInferences")
ENDPOINT = "image-classification-2023-01-18-19-42-56-366"
INPUT = {"s3_bucket": "sagemaker-us-east-1-123456789012", "s3_key": "test/bicycle_s_000513.png"}

# The handlers write /tmp/image.png: keep every test that runs them on one worker.
pytestmark = pytest.mark.xdist_group("examples-tmp-image")


def flag_declarations(root: Path) -> dict[str, FunctionSpec]:
    """What ``--function NAME=<root>/functions/NAME:lambda_function.lambda_handler`` declares, per function."""
    return {name: FunctionSpec(name=name, code=root / "functions" / name, handler="lambda_function.lambda_handler",
                               origin=Origin.FLAG) for name in FUNCTIONS}


def same_function(a: FunctionSpec, b: FunctionSpec) -> bool:
    return (a.name, a.code, a.handler, a.layers) == (b.name, b.code, b.handler, b.layers)


@pytest.mark.parametrize("root", [CLASSIC, BUGS], ids=["classic", "classic-bugs"])
def test_the_template_declares_what_the_flags_would(root: Path) -> None:
    declarations = load_template(root / "template.yaml")
    for name, flagged in flag_declarations(root).items():
        spec = declarations.functions[name]
        assert same_function(spec, flagged), name
        assert (spec.origin, spec.runtime, spec.timeout_seconds, spec.memory_mb, dict(spec.environment)) == \
            (Origin.TEMPLATE, "python3.12", 30.0, 128, {})
    assert declarations.buckets == ("sagemaker-us-east-1-123456789012",)
    assert declarations.notes == ("StateMachineRole (AWS::IAM::Role): skipped, no local meaning",)


@pytest.mark.parametrize("root", [CLASSIC, BUGS], ids=["classic", "classic-bugs"])
def test_the_console_definition_resolves_to_the_declared_functions(root: Path) -> None:
    declarations = load_template(root / "template.yaml")
    (machine,) = declarations.state_machines.values()
    exported = (root / "statemachine" / "stepfunction.json").read_text()
    assert json.loads(machine.definition) == json.loads(exported)  # the console export, unchanged
    plan = RunPlan.from_definition(machine.definition)
    assert plan.functions == set(FUNCTIONS) <= set(declarations.functions)
    assert "111122223333" in exported  # a made-up account: matched by function name locally
    state = json.loads(exported)["States"][plan.function_states["classifyImage"]]
    assert state["OutputPath"] == "$.Payload" and state["Retry"][0]["MaxAttempts"] == 3


def test_the_bugs_copy_declares_the_swallowing_filter_too() -> None:
    spec = load_template(BUGS / "template.yaml").functions["filterInferencesSwallowed"]
    assert spec.code == BUGS / "functions" / "filterInferencesSwallowed"
    assert list(load_template(BUGS / "template.yaml").state_machines) == ["scones-unlimited-bugs"]


# -- running the handlers --------------------------------------------------------------------------------------

def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80\x40\x20" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class StubS3:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def download_file(self, bucket: str, key: str, path: str) -> None:
        self.calls.append((bucket, key, path))
        Path(path).write_bytes(png())


class StubBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class StubRuntime:
    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = probabilities
        self.calls: list[dict[str, Any]] = []

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Body": StubBody(json.dumps(self.probabilities).encode())}


Run = Callable[[Path, str, Any], Invocation]


@pytest.fixture
def clients() -> dict[str, Any]:
    return {"s3": StubS3(), "runtime.sagemaker": StubRuntime([0.97, 0.03])}


@pytest.fixture
def run(clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Run one handler file as Lambda would: import (ImportModuleError), call, marshal; record the invocation."""
    boto3 = types.ModuleType("boto3")
    boto3.client = lambda name, **_: clients[name]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    monkeypatch.setitem(sys.modules, "sagemaker", None)  # not packaged with any function

    def _run(root: Path, function: str, event: Any) -> Invocation:
        path = root / "functions" / function / "lambda_function.py"
        spec = importlib.util.spec_from_file_location(f"_example_{root.name}_{function}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        started = time.perf_counter()
        try:
            spec.loader.exec_module(module)
        except ImportError as exc:
            error = runtime_error(ErrorType.IMPORT_MODULE, f"Unable to import module 'lambda_function': {exc}")
            return Invocation(function, event, error, "Unhandled", time.perf_counter() - started)
        context = LambdaContext(function_name=function, invoked_function_arn=f"arn:aws:lambda:us-east-1:"
                                f"123456789012:function:{function}", memory_limit_in_mb=128,
                                aws_request_id="r-1", deadline=time.monotonic() + 30)
        payload, failed = call_handler(module.lambda_handler, json.loads(json.dumps(event)), context)
        return Invocation(function, event, payload, "Unhandled" if failed else None, time.perf_counter() - started)

    yield _run


def states() -> dict[str, str]:
    machine = next(iter(load_template(CLASSIC / "template.yaml").state_machines.values()))
    return dict(RunPlan.from_definition(machine.definition).function_states)


def chain(run: Run, root: Path, functions: tuple[str, ...] = FUNCTIONS) -> list[Invocation]:
    """The executions' data flow: the input, then ``{"body": previous body}`` (Payload + OutputPath)."""
    invocations = [run(root, functions[0], INPUT)]
    for function in functions[1:]:
        invocations.append(run(root, function, {"body": invocations[-1].returned["body"]}))
    return invocations


def test_the_classic_handlers_pass_the_check(run: Run, clients: dict[str, Any]) -> None:
    invocations = chain(run, CLASSIC)
    assert [i.function_error for i in invocations] == [None, None, None]
    assert check_invocations(invocations, states(), reads={}) == []
    assert clients["s3"].calls == [(INPUT["s3_bucket"], INPUT["s3_key"], "/tmp/image.png")]
    (call,) = clients["runtime.sagemaker"].calls
    assert (call["EndpointName"], call["ContentType"]) == (ENDPOINT, "image/png")
    assert invocations[-1].returned["body"]["inferences"] == [0.97, 0.03]


def test_the_classic_filter_below_the_threshold_is_a_warning(run: Run, clients: dict[str, Any]) -> None:
    clients["runtime.sagemaker"].probabilities = [0.6, 0.4]
    invocations = chain(run, CLASSIC)
    assert invocations[-1].returned["errorType"] == "Exception"
    findings = check_invocations(invocations, states(), reads={})
    assert [(f.severity, f.classic_bug) for f in findings] == [(Severity.WARNING, None)]


def good_body() -> dict[str, Any]:
    return {"image_data": "aGk=", "s3_bucket": INPUT["s3_bucket"], "s3_key": INPUT["s3_key"],
            "inferences": [0.6, 0.4]}


@pytest.mark.parametrize(("function", "event", "bug", "said"), [
    ("serializeImageData", INPUT, ClassicBug.RETURNED_BYTES, "Object of type bytes is not JSON serializable"),
    ("classifyImage", {"body": good_body()}, ClassicBug.MODULE_NOT_PACKAGED, "Unable to import module"),
    ("filterInferences", {"body": good_body()}, ClassicBug.RAISED_STRING, "exceptions must derive from BaseException"),
    ("filterInferencesSwallowed", {"body": good_body()}, ClassicBug.SWALLOWED_ERROR, "returned statusCode 500"),
], ids=["bytes", "not-packaged", "raised-string", "swallowed"])
def test_each_planted_bug_is_named(run: Run, function: str, event: Any, bug: ClassicBug, said: str) -> None:
    invocation = run(BUGS, function, event)
    findings = check_invocations([invocation], states(), reads={})
    assert [(f.severity, f.classic_bug) for f in findings] == [(Severity.ERROR, bug)]
    assert said in findings[0].message
    # The same handler from examples/classic does not have it.
    if function != "filterInferencesSwallowed":
        fixed = run(CLASSIC, function, event)
        assert all(f.classic_bug is None for f in check_invocations([fixed], states(), reads={}))

