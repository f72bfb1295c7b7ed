"""``scones.workflow.runs``: what ``scones workflow run`` does, and how Ctrl-C and SIGTERM end a run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.config import Settings
from scones.errors import NotFoundError
from scones.executions.plan import RunPlan
from scones.workflow.asl.errors import DefinitionError
from scones.workflow.environment import PipelineOptions
from scones.workflow.runs import history, run_workflow


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "machine.asl.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _task(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **fields}}}


@pytest.mark.parametrize(("doc", "expected"), [
    ({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, False),
    (_task(Resource="arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "f"}), True),
    (_task(Resource="arn:aws:lambda:us-east-1:123456789012:function:serializeImageData"), True),
    ({"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                         "Parameters": {"FunctionName": "f"}, "End": True}}}}}}, True),
])
def test_the_plan_says_whether_a_definition_calls_lambda(doc: Any, expected: bool) -> None:
    assert RunPlan.from_definition(doc).calls_lambda is expected


@pytest.mark.parametrize("doc", ["{not json", json.dumps(_task(Resource="serializeImageData"))])
def test_a_definition_that_cannot_run_is_refused_before_anything_starts(doc: str) -> None:
    with pytest.raises(DefinitionError):
        RunPlan.from_definition(doc)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No state machine definition"):
        run_workflow(Settings.from_env(), PipelineOptions(definition=str(tmp_path / "absent.json")), "{}", name=None)


def test_run_workflow_runs_a_plain_definition_and_keeps_it(tmp_path: Path) -> None:
    path = _write(tmp_path, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}})
    settings = Settings.from_env()
    outcome, execution = run_workflow(settings, PipelineOptions(definition=str(path)), "{}", name="plain")
    assert execution.status.value == "SUCCEEDED" and execution.output == {"a": 1}
    assert outcome.name == "plain" and history(settings, "plain").output == {"a": 1}


@pytest.mark.timeout(60)  # a broken handler would wait for an hour
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_aborts_a_waiting_run_and_keeps_the_record(tmp_path: Path, signum: int) -> None:
    path = _write(tmp_path, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    settings = Settings.from_env()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    timer = threading.Timer(0.2, os.kill, args=(os.getpid(), signum))
    timer.start()
    try:
        _, execution = run_workflow(settings, PipelineOptions(definition=str(path)), "{}", name="interrupted")
    finally:
        timer.cancel()
    assert execution.status.value == "ABORTED" and execution.error == "Interrupted"
    kept = history(settings, "interrupted")
    assert kept.status.value == "ABORTED"
    assert [e["type"] for e in kept.events()] == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert {sig: signal.getsignal(sig) for sig in before} == before  # the handlers are restored


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, threading.Event]]:
    """An 'endpoint' that accepts connections and never answers: classifyImage waits inside invoke_endpoint."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    called = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if len(held) == 2:  # the first connection is the reachability check before any execution
                called.set()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", called
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_the_scones_machine_aborts_it_and_keeps_its_history(
        scones_home: Path, silent_endpoint: tuple[str, threading.Event], signum: int) -> None:
    """The Scones machine used to end FAILED on Ctrl-C (the interrupt became a function error)."""
    from PIL import Image

    url, called = silent_endpoint
    settings = Settings.from_env()
    image = settings.store_root / settings.bucket / "dataset" / "test" / "x.png"
    image.parent.mkdir(parents=True)
    Image.new("RGB", (32, 32), (200, 10, 10)).save(image)
    env = {**os.environ, "SCONES_HOME": str(scones_home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "scones", "workflow", "run", "--endpoint-url", url, "--name", "stopped-scones",
         "--input", json.dumps({"s3_key": "dataset/test/x.png"}), "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert called.wait(60), "classifyImage never called the endpoint"
        time.sleep(0.2)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "ABORTED" and result["error"] == "Interrupted"
    kept = history(settings, "stopped-scones")
    types = [e["type"] for e in kept.events()]
    assert kept.status.value == "ABORTED" and types[-1] == "ExecutionAborted"
    assert types.count("TaskSucceeded") == 1 and "TaskStarted" in types[-3:]  # serialized, then stopped in classify
