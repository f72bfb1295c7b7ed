"""``scones.workflow.runs``: the cheap "might this call Lambda?" pre-check behind a fast ``workflow run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scones.workflow.runs import may_call_lambda, run_file


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "machine.asl.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _task(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **fields}}}


@pytest.mark.parametrize(("doc", "expected"), [
    ({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, False),
    (_task(Resource="arn:aws:states:::sns:publish", Parameters={"Message": "hi"}), False),
    (_task(Resource="arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "f"}), True),
    (_task(Resource="arn:aws:lambda:us-east-1:123456789012:function:serializeImageData"), True),
    (_task(Resource="serializeImageData"), True),
    (_task(Resource="arn:aws:states:::aws-sdk:lambda:invoke", Parameters={"FunctionName": "f"}), True),
    ({"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                         "Arguments": {"FunctionName": "f"}, "End": True}}}}}}, True),
    ("{not json", True),
])
def test_may_call_lambda(tmp_path: Path, doc: Any, expected: bool) -> None:
    assert may_call_lambda(_write(tmp_path, doc)) is expected


def test_missing_file_is_left_to_the_full_check(tmp_path: Path) -> None:
    assert may_call_lambda(tmp_path / "absent.json") is True


def test_run_file_runs_a_plain_definition(tmp_path: Path) -> None:
    path = _write(tmp_path, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}})
    execution = run_file(path, "{}", name="plain", store=None)
    assert execution.status.value == "SUCCEEDED" and execution.output == {"a": 1}


@pytest.mark.timeout(60)  # a broken handler would wait for an hour
def test_ctrl_c_aborts_a_waiting_run_and_persists_the_record(tmp_path: Path) -> None:
    import os
    import signal
    import threading

    from scones.store import LocalStore
    from scones.workflow.asl.executor import load_execution

    path = _write(tmp_path, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    store = LocalStore(tmp_path / "executions")
    timer = threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        execution = run_file(path, "{}", name="interrupted", store=store)
    finally:
        timer.cancel()
    assert execution.status.value == "ABORTED" and execution.error == "Interrupted"
    assert load_execution(store, "interrupted").status.value == "ABORTED"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
