"""The map run API through unchanged boto3 code: DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scones.gateway.stepfunctions import map_runs as map_runs_api
from scones.workflow.asl.distributed.objects import FolderObjects

from .conftest import wait_for
from .server import ROLE, Running, running_gateway

DISTRIBUTED = json.dumps({"StartAt": "Files", "States": {"Files": {
    "Type": "Map", "Label": "files", "End": True,
    "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                   "Parameters": {"Bucket": "data", "Prefix": "in/"}},
    "ItemSelector": {"key.$": "$$.Map.Item.Value.Key"},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    for i in range(3):
        (root / "data" / "in").mkdir(parents=True, exist_ok=True)
        (root / "data" / "in" / f"{i}.txt").write_text(str(i))
    return root


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, store: Path) -> Iterator[Running]:
    with running_gateway(tmp_path_factory.mktemp("home"), objects=FolderObjects(store)) as running:
        yield running


@pytest.fixture(scope="module")
def finished(gateway: Running) -> tuple[Any, str]:
    sfn = gateway.client()
    machine = sfn.create_state_machine(name="files", definition=DISTRIBUTED, roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    described = wait_for(sfn, arn)
    assert described["status"] == "SUCCEEDED", described
    return sfn, arn


def test_list_and_describe_map_run(finished: tuple[Any, str]) -> None:
    sfn, arn = finished
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1
    item = runs[0]
    assert re.fullmatch(r"arn:aws:states:us-east-1:\d{12}:mapRun:files/files:[0-9a-f-]{36}", item["mapRunArn"])
    assert item["executionArn"] == arn
    assert item["stateMachineArn"].endswith(":stateMachine:files/files")
    assert "stopDate" in item
    run = sfn.describe_map_run(mapRunArn=item["mapRunArn"])
    assert run["status"] == "SUCCEEDED" and run["executionArn"] == arn
    assert run["itemCounts"]["total"] == 3 and run["itemCounts"]["succeeded"] == 3
    assert run["executionCounts"] == {"pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0,
                                      "aborted": 0, "total": 3, "resultsWritten": 0, "failuresNotRedrivable": 0,
                                      "pendingRedrive": 0}
    assert (run["toleratedFailureCount"], run["toleratedFailurePercentage"], run["maxConcurrency"]) == (0, 0.0, 0)


def test_history_names_the_map_run(finished: tuple[Any, str]) -> None:
    sfn, arn = finished
    events = sfn.get_execution_history(executionArn=arn)["events"]
    types = [e["type"] for e in events]
    assert types == ["ExecutionStarted", "MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited",
                     "ExecutionSucceeded"]
    started = events[2]["mapRunStartedEventDetails"]["mapRunArn"]
    assert started == sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]


def test_children_are_executions_of_the_map_run(finished: tuple[Any, str], gateway: Running) -> None:
    sfn, arn = finished
    map_run = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    gateway.executions.flush()
    children = sfn.list_executions(mapRunArn=map_run)["executions"]
    assert len(children) == 3 and {c["mapRunArn"] for c in children} == {map_run}
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    assert child["status"] == "SUCCEEDED"
    assert re.fullmatch(r"arn:aws:states:us-east-1:\d{12}:execution:files/files:[0-9a-f-]{36}", child["executionArn"])
    assert json.loads(child["output"])["key"].startswith("in/")
    history = sfn.get_execution_history(executionArn=child["executionArn"])["events"]
    assert [e["type"] for e in history] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                            "ExecutionSucceeded"]


def test_list_executions_of_a_map_run_by_status(finished: tuple[Any, str], gateway: Running) -> None:
    sfn, arn = finished
    map_run = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    gateway.executions.flush()
    assert len(sfn.list_executions(mapRunArn=map_run, statusFilter="SUCCEEDED")["executions"]) == 3
    assert sfn.list_executions(mapRunArn=map_run, statusFilter="FAILED")["executions"] == []
    # No local execution is ever PENDING_REDRIVE or redriven (as ListExecutions of a state machine says).
    assert sfn.list_executions(mapRunArn=map_run, statusFilter="PENDING_REDRIVE")["executions"] == []
    assert sfn.list_executions(mapRunArn=map_run, redriveFilter="REDRIVEN")["executions"] == []


def test_children_of_an_older_map_run_are_found_behind_newer_ones(finished: tuple[Any, str], gateway: Running,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sfn, arn = finished
    first = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    machine = sfn.describe_execution(executionArn=arn)["stateMachineArn"]
    again = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert wait_for(sfn, again)["status"] == "SUCCEEDED"
    second = sfn.list_map_runs(executionArn=again)["mapRuns"][0]["mapRunArn"]
    gateway.executions.flush()
    # Pages of two executions: the newer run's three children come before the older run's.
    monkeypatch.setattr(map_runs_api, "_CHILDREN_PAGE", 2)
    older = sfn.list_executions(mapRunArn=first)["executions"]
    newer = sfn.list_executions(mapRunArn=second)["executions"]
    assert len(older) == len(newer) == 3
    assert not {c["executionArn"] for c in older} & {c["executionArn"] for c in newer}


def test_update_map_run(finished: tuple[Any, str]) -> None:
    sfn, arn = finished
    map_run = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    sfn.update_map_run(mapRunArn=map_run, maxConcurrency=5, toleratedFailureCount=2)
    run = sfn.describe_map_run(mapRunArn=map_run)
    assert (run["maxConcurrency"], run["toleratedFailureCount"]) == (5, 2)


def test_unknown_map_run_and_execution(finished: tuple[Any, str]) -> None:
    sfn, arn = finished
    unknown = "arn:aws:states:us-east-1:123456789012:mapRun:files/files:00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as caught:
        sfn.describe_map_run(mapRunArn=unknown)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as caught:
        sfn.list_map_runs(executionArn=arn.rsplit(":", 1)[0] + ":nobody")
    assert caught.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
