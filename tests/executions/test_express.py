"""Express executions on the execution service: their ARNs everywhere, their context object, their 5 minutes."""

from __future__ import annotations

import re

from scones.executions import ExecutionService
from scones.executions.machines import MachineType
from scones.workflow.asl import ExecutionStatus, FakeClock

ROLE = "arn:aws:iam::123456789012:role/test"
EXPRESS_ARN = re.compile(r"^arn:aws:states:us-east-1:123456789012:express:(?P<machine>[^:]+):(?P<name>[^:]+):"
                         r"[0-9a-f-]{36}$")
CONTEXT = ('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Parameters": '
           '{"execution.$": "$$.Execution", "machine.$": "$$.StateMachine"}}}}')


def test_the_context_object_of_an_express_execution_names_it_by_its_express_arn() -> None:
    with ExecutionService() as service:
        service.create_state_machine("fast", CONTEXT, role_arn=ROLE, type=MachineType.EXPRESS)
        record = service.run("fast", {"a": 1}, name="one")
    execution = record.output["execution"]
    assert record.execution_arn == execution["Id"] and EXPRESS_ARN.match(execution["Id"])
    # redrive is for Standard executions: an Express context has no RedriveCount
    assert sorted(execution) == ["Id", "Input", "Name", "RoleArn", "StartTime"]
    assert (execution["Name"], execution["Input"], execution["RoleArn"]) == ("one", {"a": 1}, ROLE)
    with ExecutionService() as service:
        service.create_state_machine("slow", CONTEXT, role_arn=ROLE)
        standard = service.run("slow", {}).output["execution"]
    assert standard["RedriveCount"] == 0 and ":execution:slow:" in standard["Id"]


def test_an_express_child_started_by_a_standard_parent_has_an_express_arn() -> None:
    with ExecutionService() as service:
        service.create_state_machine("child", CONTEXT, role_arn=ROLE, type=MachineType.EXPRESS)
        service.create_state_machine("parent", '{"StartAt": "S", "States": {"S": {"Type": "Task", "End": true, '
                                     '"Resource": "arn:aws:states:::states:startExecution.sync:2", "Parameters": '
                                     '{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"}'
                                     '}}}', role_arn=ROLE)
        record = service.run("parent", {})
    output = record.output
    assert record.status is ExecutionStatus.SUCCEEDED
    match = EXPRESS_ARN.match(output["ExecutionArn"])
    assert match and match["machine"] == "child"
    assert output["Output"]["execution"]["Id"] == output["ExecutionArn"]


def test_an_express_execution_times_out_after_five_minutes() -> None:
    clock = FakeClock()
    with ExecutionService(clock=clock) as service:
        service.create_state_machine("long", '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, '
                                     '"End": true}}}', role_arn=ROLE, type=MachineType.EXPRESS)
        record = service.run("long", {})
        assert record.status is ExecutionStatus.TIMED_OUT
        assert record.stop_time is not None and record.stop_time - record.start_time == 300
        service.create_state_machine("short", '{"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": '
                                     '{"Type": "Wait", "Seconds": 600, "End": true}}}', role_arn=ROLE,
                                     type=MachineType.EXPRESS)
        shorter = service.run("short", {})
        assert shorter.stop_time is not None and shorter.stop_time - shorter.start_time == 10
