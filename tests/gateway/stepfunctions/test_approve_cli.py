"""``scones workflow approve`` / ``reject`` answer a waiting task through a running gateway, from another "shell";
``scones workflow run`` says where its waiting task's token is and that nothing in it can answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.cli import main

from .server import ROLE, Running, running_gateway

WAITS = {"StartAt": "Ask", "States": {"Ask": {
    "Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "TimeoutSeconds": 60,
    "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:reviews",
                   "Message": {"TaskToken.$": "$$.Task.Token"}}, "ResultPath": "$.review", "End": True}}}


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Running]:
    with running_gateway(tmp_path / "gateway-home") as running:
        yield running


def waiting_execution(gateway: Running) -> tuple[Any, str, str]:
    sfn = gateway.client()
    machine = sfn.create_state_machine(name="review", definition=json.dumps(WAITS), roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"image": "x.png"}')["executionArn"]
    deadline = time.monotonic() + 10
    while not gateway.executions.callbacks.waiting():
        assert time.monotonic() < deadline, "the execution never waited"
        time.sleep(0.01)
    return sfn, arn, gateway.executions.callbacks.waiting()[0].token


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return dict(described)


@pytest.mark.timeout(60)
def test_approve_resumes_an_execution_running_in_the_gateway(gateway: Running, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sfn, arn, token = waiting_execution(gateway)
    monkeypatch.setenv("AWS_ENDPOINT_URL", gateway.url)  # as 'scones up' prints it for the other shell
    code, out, err = invoke(["workflow", "approve", token, "--label", "motorcycle"], capsys)
    assert code == 0, err
    assert out.strip() == 'approved: the task goes on with {"label": "motorcycle"}'
    described = finished(sfn, arn)
    assert json.loads(described["output"]) == {"image": "x.png", "review": {"label": "motorcycle"}}
    # the token is spent: a second approval is refused as AWS refuses it, with what it means
    code, _, err = invoke(["workflow", "approve", token, "--label", "bicycle", "--endpoint-url", gateway.url],
                          capsys)
    assert code != 0 and "TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'" in err
    assert "no longer waits" in err


@pytest.mark.timeout(60)
def test_reject_fails_the_task(gateway: Running, capsys: pytest.CaptureFixture[str]) -> None:
    sfn, arn, token = waiting_execution(gateway)
    code, out, _ = invoke(["workflow", "reject", token, "--error", "NotAVehicle", "--cause", "a cat",
                           "--endpoint-url", gateway.url], capsys)
    assert code == 0 and out.strip() == "rejected: the task fails with NotAVehicle"
    described = finished(sfn, arn)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "NotAVehicle", "a cat")


def test_approve_needs_an_endpoint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    code, _, err = invoke(["workflow", "approve", "some-token", "--label", "x"], capsys)
    assert code != 0 and "No Step Functions endpoint" in err and "scones up" in err


def test_a_garbled_token_is_invalid(gateway: Running, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = invoke(["workflow", "approve", "not-a-token", "--label", "x", "--endpoint-url", gateway.url],
                          capsys)
    assert code != 0 and "InvalidToken: Invalid Token: 'Invalid token'" in err


@pytest.mark.timeout(60)
def test_run_prints_the_token_of_a_waiting_task_on_stderr(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    definition = json.loads(json.dumps(WAITS))
    definition["States"]["Ask"]["TimeoutSeconds"] = 1
    path = tmp_path / "review.asl.json"
    path.write_text(json.dumps(definition))
    code, out, err = invoke(["workflow", "run", "--definition", str(path), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert (result["status"], result["error"]) == ("FAILED", "States.Timeout")
    assert "State 'Ask' waits for a callback with the task token:" in err
    assert "scones workflow approve" in err
