"""``workflow run-batch``, ``workflow check`` and ``load`` as a user types them (against a real endpoint)."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from click.testing import CliRunner

from scones.cli.context import AppContext

from .conftest import ENDPOINT_NAME, Staged

pytest.importorskip("scones.workflow.asl.program")  # the interpreter (issue 5)
pytestmark = pytest.mark.slow


def invoke(command: click.Command, args: list[str]) -> Any:
    result = CliRunner().invoke(command, args, obj=AppContext.create(), standalone_mode=False,
                                catch_exceptions=True)
    return result


def test_run_batch_json_summary(staged: Staged, endpoint: str) -> None:
    from scones.cli.batch_cmd import run_batch

    result = invoke(run_batch, ["--endpoint-url", endpoint, "--endpoint-name", ENDPOINT_NAME, "--prefix", "test/",
                                "--limit", "5", "--concurrency", "3", "--threshold", "0.5", "--json"])
    assert result.exception is None, result.output
    summary = json.loads(result.output)
    assert summary["executions"] == 5 and summary["succeeded"] == 5  # two classes: the top is always >= 0.5
    assert summary["labelled_accepted"] == 5 and 0.0 <= summary["accuracy_accepted"] <= 1.0
    assert set(summary["latency_ms"]) == {"p50", "p90", "p99", "max"}


def test_run_batch_text_and_empty_prefix(staged: Staged, endpoint: str) -> None:
    from scones.cli.batch_cmd import run_batch
    from scones.errors import NotFoundError

    result = invoke(run_batch, ["--endpoint-url", endpoint, "--endpoint-name", ENDPOINT_NAME, "--threshold", "1.0"])
    assert result.exception is None, result.output
    assert f"failed, low confidence: {len(staged.keys)}" in result.output
    assert "accuracy (accepted):   n/a (no image was accepted)" in result.output
    missing = invoke(run_batch, ["--endpoint-url", endpoint, "--prefix", "nothing/"])
    assert isinstance(missing.exception, NotFoundError)


def test_check_reports_clean_run(staged: Staged, endpoint: str) -> None:
    from scones.cli.check_cmd import check

    result = invoke(check, ["--endpoint-url", endpoint, "--endpoint-name", ENDPOINT_NAME, "--threshold", "0.5",
                            "--json"])
    assert result.exception is None, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["findings"] == []
    assert [s["function"] for s in report["steps"]] == ["serializeImageData", "classifyImage", "filterInferences"]


def test_check_fails_on_a_wrong_endpoint_name(staged: Staged, endpoint: str) -> None:
    from scones.cli.check_cmd import check
    from scones.errors import WorkflowError

    result = invoke(check, ["--endpoint-url", endpoint, "--endpoint-name", "wrong-name"])
    assert isinstance(result.exception, WorkflowError)
    assert "function_error" in result.output and "ValidationError" in result.output


def test_load_streams_at_a_rate(staged: Staged, endpoint: str) -> None:
    from scones.cli.load_cmd import load

    result = invoke(load, ["--rate", "40", "--duration", "0.5", "--endpoint-url", endpoint,
                           "--endpoint-name", ENDPOINT_NAME, "--threshold", "0.5", "--json"])
    assert result.exception is None, result.output
    report = json.loads(result.output)
    assert report["due"] == 20 and report["completed"] + report["skipped"] == 20
    assert report["succeeded"] == report["completed"] and report["errored"] == 0
    bad = invoke(load, ["--rate", "0", "--duration", "1", "--endpoint-url", endpoint])
    assert "--rate must be" in str(bad.exception)
    remote = invoke(load, ["--rate", "1", "--duration", "1", "--endpoint-url", "https://runtime.sagemaker.example.com"])
    assert "not a loopback address" in str(remote.exception)


def test_workflow_run_default_definition_and_history(staged: Staged, endpoint: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from scones.cli import main

    key = staged.keys[0].removeprefix("dataset/")  # the classic key: resolved to the staged dataset/ prefix
    with pytest.raises(SystemExit) as exit_info:
        main(["workflow", "run", "--endpoint-url", endpoint, "--endpoint-name", ENDPOINT_NAME, "--threshold", "0.5",
              "--name", "cli-run-1", "--input", json.dumps({"s3_key": key}), "--json"])
    assert exit_info.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "SUCCEEDED" and result["executionArn"].endswith(":cli-run-1")
    assert result["output"]["body"]["s3_key"] == staged.keys[0]
    with pytest.raises(SystemExit):
        main(["workflow", "history", "cli-run-1", "--json"])
    events = json.loads(capsys.readouterr().out)["events"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    assert sum(1 for e in events if e["type"] == "TaskSucceeded") == 3


def test_workflow_run_low_confidence_exits_zero_with_failed_status(staged: Staged, endpoint: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from scones.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["workflow", "run", "--endpoint-url", endpoint, "--endpoint-name", ENDPOINT_NAME, "--threshold", "1.0",
              "--input", json.dumps({"s3_bucket": "scones", "s3_key": staged.keys[0]})])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("FAILED") and "error: ThresholdConfidenceNotMet" in out
