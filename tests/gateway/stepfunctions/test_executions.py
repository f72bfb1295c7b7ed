"""StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory and StopExecution through boto3."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import FAIL, GATED, Gates, wait_for
from .test_state_machines import error_of


def test_an_execution_is_described_running_then_succeeded(sfn: Any, machine: Callable[..., str],
                                                          gates: Gates) -> None:
    arn = machine(GATED)
    started = sfn.start_execution(stateMachineArn=arn, input='{"gate": "describe"}')
    name = started["executionArn"].rsplit(":", 1)[1]
    assert started["executionArn"] == arn.replace(":stateMachine:", ":execution:") + f":{name}"
    assert str(uuid.UUID(name)) == name  # the default name is a UUID
    assert gates.entered("describe")
    running = sfn.describe_execution(executionArn=started["executionArn"])
    running.pop("ResponseMetadata")
    assert running == {
        "executionArn": started["executionArn"], "stateMachineArn": arn, "name": name, "status": "RUNNING",
        "startDate": started["startDate"], "input": '{"gate":"describe"}', "inputDetails": {"included": True},
        "redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is RUNNING and cannot be redriven"}
    gates.open("describe")
    done = wait_for(sfn, started["executionArn"])
    assert (done["status"], json.loads(done["output"]), done["outputDetails"]) == \
        ("SUCCEEDED", {"done": "describe"}, {"included": True})
    assert done["stopDate"] >= done["startDate"] and "error" not in done and "cause" not in done


def test_a_failed_execution_has_error_and_cause_and_no_output(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(FAIL))["executionArn"]
    failed = wait_for(sfn, arn)
    assert (failed["status"], failed["error"], failed["cause"], failed["input"]) == \
        ("FAILED", "Broken", "on purpose", "{}")
    assert "output" not in failed and "outputDetails" not in failed and "stopDate" in failed


@pytest.mark.parametrize(("given", "reason"), [
    ("not json", "Expecting value (line 1, column 1)"),
    ("", "Invalid execution input."),
    ("{'single': 'quotes'}", "Expecting property name enclosed in double quotes (line 1, column 2)"),
], ids=["words", "empty", "single-quotes"])
def test_input_must_be_json(sfn: Any, machine: Callable[..., str], given: str, reason: str) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=machine(), input=given)
    assert error_of(exc) == ("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{reason}'", 400)


def test_any_json_value_is_an_input(sfn: Any, machine: Callable[..., str]) -> None:
    # (not "null": the interpreter takes a None input for "no input", {}; AWS would run with null)
    arn = machine()
    for given in ("1", '"text"', "[1, 2]"):
        execution = sfn.start_execution(stateMachineArn=arn, input=given)["executionArn"]
        assert json.loads(sfn.describe_execution(executionArn=execution)["input"]) == json.loads(given)


def test_input_is_limited_to_256_kib_of_utf8(sfn: Any, machine: Callable[..., str]) -> None:
    arn = machine()
    # 87,382 three-byte characters: within the 262,144-character model limit, over 262,144 bytes
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps("€" * 87_382, ensure_ascii=False))
    assert error_of(exc)[0] == "InvalidExecutionInput" and "262144 bytes" in error_of(exc)[1]
    fits = json.dumps("x" * (262_144 - 2))
    assert wait_for(sfn, sfn.start_execution(stateMachineArn=arn, input=fits)["executionArn"])["status"] \
        == "FAILED"  # the Pass states' output grows past the quota: States.DataLimitExceeded, as on AWS


def test_names_are_unique_and_a_repeated_start_of_a_running_execution_is_idempotent(
        sfn: Any, machine: Callable[..., str], gates: Gates, unique: Callable[[str], str]) -> None:
    arn = machine(GATED)
    name = unique("once")
    given = json.dumps({"gate": name})
    first = sfn.start_execution(stateMachineArn=arn, name=name, input=given)
    assert gates.entered(name)
    again = sfn.start_execution(stateMachineArn=arn, name=name, input=given)
    assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"gate": name, "other": 1}))
    assert error_of(exc) == ("ExecutionAlreadyExists", f"Execution Already Exists: '{first['executionArn']}'", 400)
    gates.open(name)
    wait_for(sfn, first["executionArn"])
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):  # ended: the name stays taken, whatever the input
        sfn.start_execution(stateMachineArn=arn, name=name, input=given)
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn, name="bad name")
    assert error_of(exc) == ("InvalidName", "Invalid Name: 'bad name'", 400)


def test_describe_refuses_unknown_and_mismatched_arns(sfn: Any, machine: Callable[..., str]) -> None:
    first, other = machine(), machine()
    arn = sfn.start_execution(stateMachineArn=first)["executionArn"]
    wrong_machine = other.replace(":stateMachine:", ":execution:") + ":" + arn.rsplit(":", 1)[1]
    for missing in (wrong_machine, arn + "x"):
        with pytest.raises(ClientError) as exc:
            sfn.describe_execution(executionArn=missing)
        assert error_of(exc) == ("ExecutionDoesNotExist", f"Execution Does Not Exist: '{missing}'", 400)
    with pytest.raises(ClientError) as exc:
        sfn.describe_execution(executionArn="invalid_execution_arn")
    assert error_of(exc) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_execution_arn'", 400)
    with pytest.raises(ClientError) as exc:
        sfn.describe_execution(executionArn=first)
    assert error_of(exc) == ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
                             400)


def test_list_is_newest_first_filtered_and_paged(sfn: Any, machine: Callable[..., str], gates: Gates,
                                                unique: Callable[[str], str]) -> None:
    arn = machine(GATED)
    gate = unique("listing")
    names = []
    for i in range(7):
        name = f"{gate}-{i}"
        names.append(name)
        sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"gate": gate if i == 6 else name}))
        if i < 6:
            gates.open(name)
            wait_for(sfn, arn.replace(":stateMachine:", ":execution:") + f":{name}")
        time.sleep(0.002)  # distinct start times
    assert gates.entered(gate)
    listed = []
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, PaginationConfig={"PageSize": 3})
    for page in pages:
        assert len(page["executions"]) <= 3
        listed += page["executions"]
    assert [e["name"] for e in listed] == names[::-1]
    assert listed[0]["status"] == "RUNNING" and "stopDate" not in listed[0]
    assert all(e["status"] == "SUCCEEDED" and e["stopDate"] >= e["startDate"] for e in listed[1:])
    assert set(listed[1]) == {"executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate",
                              "redriveCount"}
    running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    assert [e["name"] for e in running] == [names[6]]
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="ABORTED")["executions"] == []
    with pytest.raises(ClientError) as exc:
        sfn.list_executions(stateMachineArn=arn, maxResults=1001)
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_executions(stateMachineArn=arn + "-missing")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_executions(stateMachineArn=arn, nextToken="garbage")
    gates.open(gate)


def test_history_pages_both_ways_with_or_without_data(sfn: Any, machine: Callable[..., str]) -> None:
    arn = sfn.start_execution(stateMachineArn=machine(), input='{"a": 1}')["executionArn"]
    wait_for(sfn, arn)
    everything = sfn.get_execution_history(executionArn=arn, maxResults=1000)
    events = everything["events"]
    assert "nextToken" not in everything
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                           "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, 7))
    assert events[0]["executionStartedEventDetails"]["input"] == '{"a":1}'
    assert all(hasattr(e["timestamp"], "timestamp") for e in events)  # botocore made datetimes of them
    paged: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=4, reverseOrder=True,
                                         **({"nextToken": token} if token else {}))
        paged += page["events"]
        token = page.get("nextToken")
        if token is None:
            break
    assert paged == events[::-1]
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    assert bare[0]["executionStartedEventDetails"] == {"roleArn": events[0]["executionStartedEventDetails"]["roleArn"]}
    assert bare[2]["stateExitedEventDetails"] == {"name": "One"}
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(executionArn=arn, nextToken=page_token("history", 99))
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=arn + "-missing")


def page_token(kind: str, position: int) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps([kind, position]).encode()).decode()


def test_stop_ends_a_running_execution_aborted_with_error_and_cause(sfn: Any, machine: Callable[..., str],
                                                                    gates: Gates, unique: Callable[[str], str]) -> None:
    gate = unique("stop")
    arn = sfn.start_execution(stateMachineArn=machine(GATED), input=json.dumps({"gate": gate}))["executionArn"]
    assert gates.entered(gate)
    stopped = sfn.stop_execution(executionArn=arn, error="Operator", cause="wrong image")
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"], described["cause"], described["stopDate"]) == \
        ("ABORTED", "Operator", "wrong image", stopped["stopDate"])
    last = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)["events"][0]
    assert (last["type"], last["executionAbortedEventDetails"]) == \
        ("ExecutionAborted", {"error": "Operator", "cause": "wrong image"})
    gates.open(gate)
    again = sfn.stop_execution(executionArn=arn)  # already ended: nothing changes
    assert again["stopDate"] == stopped["stopDate"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


@pytest.mark.timeout(60)
def test_three_executions_at_once(sfn: Any, machine: Callable[..., str], gates: Gates,
                                  unique: Callable[[str], str]) -> None:
    arn = machine(GATED)
    gate = unique("three")
    runs = [sfn.start_execution(stateMachineArn=arn, input=json.dumps({"gate": f"{gate}-{i}"}))["executionArn"]
            for i in range(3)]
    for i in range(3):
        assert gates.entered(f"{gate}-{i}")
    assert {sfn.describe_execution(executionArn=r)["status"] for r in runs} == {"RUNNING"}
    assert len(sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]) == 3
    sfn.stop_execution(executionArn=runs[0])
    gates.open(f"{gate}-2")
    assert wait_for(sfn, runs[2])["status"] == "SUCCEEDED"
    assert sfn.describe_execution(executionArn=runs[1])["status"] == "RUNNING"
    gates.open(f"{gate}-1")
    assert [wait_for(sfn, r)["status"] for r in runs] == ["ABORTED", "SUCCEEDED", "SUCCEEDED"]
