"""CreateStateMachine, DescribeStateMachine, ListStateMachines, UpdateStateMachine, DeleteStateMachine and
DescribeStateMachineForExecution through boto3, answered as AWS answers them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scones.workflow.asl import validate_definition

from .conftest import FAIL, GATED, PASS, Gates, wait_for
from .server import ROLE


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_created_machines_are_described_as_aws_does(sfn: Any, unique: Callable[[str], str]) -> None:
    name = unique("described")
    before = time.time()
    created = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    assert created["stateMachineArn"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    assert before - 1 <= created["creationDate"].timestamp() <= time.time() + 1
    described = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    described.pop("ResponseMetadata")
    assert described == {
        "stateMachineArn": created["stateMachineArn"], "name": name, "status": "ACTIVE", "definition": PASS,
        "roleArn": ROLE, "type": "STANDARD", "creationDate": created["creationDate"],
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False}}


def test_create_is_idempotent_and_a_different_definition_under_the_name_is_refused(
        sfn: Any, unique: Callable[[str], str]) -> None:
    name = unique("twice")
    first = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    again = sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    assert (again["stateMachineArn"], again["creationDate"]) == (first["stateMachineArn"], first["creationDate"])
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=name, definition=FAIL, roleArn=ROLE)
    assert error_of(exc) == ("StateMachineAlreadyExists",
                             f"State Machine Already Exists: '{first['stateMachineArn']}'", 400)
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE, type="EXPRESS")


def test_invalid_definitions_are_refused_in_aws_words(sfn: Any, unique: Callable[[str], str]) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=unique("bad"), definition="{}", roleArn=ROLE)
    assert error_of(exc) == ("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                             "These fields are required: [StartAt] at /, SCHEMA_VALIDATION_FAILED: These fields are "
                             "required: [States] at /'", 400)
    # every problem the validator finds, each as "CODE: message at /pointer", in one message
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Succeed"}}}
    problems = validate_definition(definition)
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=unique("bad"), definition=json.dumps(definition), roleArn=ROLE)
    assert len(problems) > 1 and "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next" \
        in error_of(exc)[1]
    assert error_of(exc)[1] == f"Invalid State Machine Definition: '{', '.join(str(p) for p in problems)}'"


def test_not_json_is_an_invalid_definition(sfn: Any, unique: Callable[[str], str]) -> None:
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="INVALID_JSON_DESCRIPTION"):
        sfn.create_state_machine(name=unique("bad"), definition="{not json", roleArn=ROLE)


def test_express_machines_refuse_callbacks_and_sync_jobs(sfn: Any, unique: Callable[[str], str]) -> None:
    definition = json.dumps({"StartAt": "Publish", "States": {"Publish": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "work", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}})
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=unique("cb"), definition=definition, roleArn=ROLE, type="EXPRESS")
    assert error_of(exc)[:2] == ("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                                 "Express state machine does not support '.waitForTaskToken' service integration  "
                                 "at /States/Publish/Resource'")
    sync = json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"}, "End": True}}})
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=unique("sync"), definition=sync, roleArn=ROLE, type="EXPRESS")
    assert error_of(exc)[:2] == ("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
                                 "Express state machine does not support '.sync' service integration at "
                                 "/States/Run/Resource'")


@pytest.mark.parametrize("name", ["has space", "a:b", "x" * 80 + "y", "br{ace}", "slash/"],
                         ids=["space", "colon", "81-chars", "braces", "slash"])
def test_names_follow_aws_rules(sfn: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
    code, message, status = error_of(exc)
    if len(name) > 80:  # the model's length limit: AWS's front door answers it
        assert (code, status) == ("ValidationException", 400) and "Member must have length less than or equal to " \
            "80" in message
    else:
        assert (code, message, status) == ("InvalidName", f"Invalid Name: '{name}'", 400)


def test_arns_are_checked(sfn: Any, unique: Callable[[str], str], machine: Callable[..., str]) -> None:
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name=unique("role"), definition=PASS, roleArn="not-an-arn")
    assert error_of(exc) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not-an-arn'", 400)
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn="not_a_valid_arn")
    assert error_of(exc) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'", 400)
    execution = sfn.start_execution(stateMachineArn=machine())["executionArn"]
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn=execution)
    assert error_of(exc) == ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: execution'", 400)
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:never-created"
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn=missing)
    assert error_of(exc) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'", 400)


def test_list_pages_through_every_machine_in_name_order(sfn: Any, gateway: Any, unique: Callable[[str], str]) -> None:
    for i in range(5):
        sfn.create_state_machine(name=unique(f"listed-{i}"), definition=PASS, roleArn=ROLE)
    expected = sorted(m.name for m in gateway.executions.state_machines())
    names: list[str] = []
    pages = 0
    for page in sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        assert len(page["stateMachines"]) <= 2
        names += [m["name"] for m in page["stateMachines"]]
        assert all(set(m) == {"stateMachineArn", "name", "type", "creationDate"} for m in page["stateMachines"])
    assert names == expected and pages == (len(expected) + 1) // 2
    with pytest.raises(ClientError) as exc:
        sfn.list_state_machines(maxResults=1001)
    assert error_of(exc) == ("ValidationException", "1 validation error detected: Value '1001' at 'maxResults' "
                             "failed to satisfy constraint: Member must have value less than or equal to 1000", 400)
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="bm90IG91cnM=")


def test_update_makes_a_revision_and_running_executions_keep_theirs(
        sfn: Any, machine: Callable[..., str], gates: Gates) -> None:
    arn = machine(GATED)
    old = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"gate": "update-old"}))["executionArn"]
    assert gates.entered("update-old")
    with pytest.raises(ClientError) as exc:
        sfn.update_state_machine(stateMachineArn=arn)
    assert error_of(exc) == ("MissingRequiredParameter", "Either the definition, the role ARN, the "
                             "LoggingConfiguration, or the TracingConfiguration must be specified", 400)
    new_role = "arn:aws:iam::123456789012:role/after-update"
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=PASS, roleArn=new_role)
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["definition"], described["roleArn"], described["revisionId"]) == \
        (PASS, new_role, updated["revisionId"])
    assert updated["updateDate"] >= described["creationDate"]
    # the same update again changes nothing, not even the revision
    assert sfn.update_state_machine(stateMachineArn=arn, roleArn=new_role)["revisionId"] == updated["revisionId"]
    new = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"gate": "update-new"}))["executionArn"]
    assert wait_for(sfn, new)["output"] == json.dumps({"gate": "update-new", "one": {"n": 1}}, separators=(",", ":"))
    for_old = sfn.describe_state_machine_for_execution(executionArn=old)
    assert (for_old["definition"], for_old["roleArn"], for_old.get("revisionId")) == (GATED, ROLE, None)
    assert for_old["updateDate"] == described["creationDate"]
    for_new = sfn.describe_state_machine_for_execution(executionArn=new)
    assert (for_new["definition"], for_new["roleArn"], for_new["revisionId"]) == (PASS, new_role, updated["revisionId"])
    gates.open("update-old")
    finished = wait_for(sfn, old)
    assert (finished["status"], json.loads(finished["output"])) == ("SUCCEEDED", {"done": "update-old"})
    history = sfn.get_execution_history(executionArn=old)["events"]
    assert history[0]["executionStartedEventDetails"]["roleArn"] == ROLE


def test_delete_waits_for_running_executions(sfn: Any, machine: Callable[..., str], gates: Gates,
                                             gateway: Any) -> None:
    arn = machine(GATED)
    running = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"gate": "delete"}))["executionArn"]
    assert gates.entered("delete")
    sfn.delete_state_machine(stateMachineArn=arn)
    assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"gate": "never"}))
    assert error_of(exc) == ("StateMachineDeleting", f"State Machine Is Being Deleted: '{arn}'", 400)
    gates.open("delete")
    assert wait_for(sfn, running)["status"] == "SUCCEEDED"
    deadline = time.monotonic() + 10
    while arn in {m["stateMachineArn"] for m in sfn.list_state_machines(maxResults=1000)["stateMachines"]}:
        assert time.monotonic() < deadline, "the state machine was not deleted after its execution ended"
        time.sleep(0.01)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)
    assert sfn.describe_execution(executionArn=running)["status"] == "SUCCEEDED"  # histories stay
    sfn.delete_state_machine(stateMachineArn=arn)  # already gone: no error, as on AWS


def test_an_idle_machine_is_deleted_at_once(sfn: Any, machine: Callable[..., str]) -> None:
    arn = machine()
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)


def test_logging_configuration_is_kept_and_checked(sfn: Any, unique: Callable[[str], str]) -> None:
    logging = {"level": "ALL", "includeExecutionData": True, "destinations": [
        {"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]}
    arn = sfn.create_state_machine(name=unique("logged"), definition=PASS, roleArn=ROLE,
                                   loggingConfiguration=logging, tracingConfiguration={"enabled": True},
                                   type="EXPRESS")["stateMachineArn"]
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["loggingConfiguration"], described["tracingConfiguration"], described["type"]) == \
        (logging, {"enabled": True}, "EXPRESS")
    with pytest.raises(sfn.exceptions.InvalidLoggingConfiguration):
        sfn.create_state_machine(name=unique("logged"), definition=PASS, roleArn=ROLE,
                                 loggingConfiguration={"level": "ERROR"})


def test_tags_are_kept_added_and_removed(sfn: Any, unique: Callable[[str], str], gateway: Any) -> None:
    arn = sfn.create_state_machine(name=unique("tagged"), definition=PASS, roleArn=ROLE,
                                   tags=[{"key": "team", "value": "scones"}])["stateMachineArn"]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "stage", "value": "dev"}, {"key": "team", "value": "ml"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "ml"},
                                                                   {"key": "stage", "value": "dev"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "stage", "value": "dev"}]
    with pytest.raises(sfn.exceptions.TooManyTags):
        sfn.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    missing = arn + "-missing"
    with pytest.raises(ClientError) as exc:
        sfn.list_tags_for_resource(resourceArn=missing)
    assert error_of(exc) == ("ResourceNotFound", f"Resource not found: '{missing}'", 400)
    assert exc.value.response["resourceName"] == missing


def test_definitions_are_validated_without_creating_anything(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=PASS)
    assert (ok["result"], ok["diagnostics"], ok["truncated"]) == ("OK", [], False)
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    failed = sfn.validate_state_machine_definition(definition=broken, maxResults=1)
    assert (failed["result"], failed["truncated"]) == ("FAIL", True)
    assert failed["diagnostics"] == [{"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET",
                                      "message": "Missing 'Next' target: Nowhere", "location": "/States/A/Next"}]
    assert sfn.validate_state_machine_definition(definition="{oops")["diagnostics"][0]["code"] == \
        "INVALID_JSON_DESCRIPTION"
