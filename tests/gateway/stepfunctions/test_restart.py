"""``scones up`` stopped and started again on the same folders: state machines and executions are still there;
executions running at the stop had ``shutdown_grace`` seconds to end, the others ended ABORTED."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scones.gateway.stepfunctions.service import SHUTDOWN_CAUSE
from scones.workflow.asl import CallableLambdaInvoker

from .conftest import GATED, PASS, Gates, wait_for
from .server import ROLE, running_gateway

WAITS = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})


@pytest.mark.timeout(120)
def test_state_machines_and_executions_outlive_a_restart(tmp_path: Path) -> None:
    gates = Gates()
    invoker = CallableLambdaInvoker({"work": gates.work})
    try:
        with running_gateway(tmp_path, shutdown_grace=5.0, invoker=invoker) as first:
            sfn = first.client()
            kept = sfn.create_state_machine(name="kept", definition=PASS, roleArn=ROLE,
                                            tags=[{"key": "team", "value": "scones"}])
            express = sfn.create_state_machine(name="fast", definition=PASS, roleArn=ROLE, type="EXPRESS")
            gated = sfn.create_state_machine(name="gated", definition=GATED, roleArn=ROLE)["stateMachineArn"]
            slow = sfn.create_state_machine(name="slow", definition=WAITS, roleArn=ROLE)["stateMachineArn"]
            done = sfn.start_execution(stateMachineArn=kept["stateMachineArn"], name="done", input='{"a": 1}')
            wait_for(sfn, done["executionArn"])
            old = sfn.start_execution(stateMachineArn=gated, name="old-revision", input='{"gate": "old"}')
            gates.open("old")
            wait_for(sfn, old["executionArn"])
            update = sfn.update_state_machine(stateMachineArn=gated, definition=PASS)
            sfn.update_state_machine(stateMachineArn=gated, definition=GATED)
            stuck = sfn.start_execution(stateMachineArn=gated, name="stuck", input='{"gate": "never"}')
            assert gates.entered("never")
            finishing = sfn.start_execution(stateMachineArn=slow, name="finishing")
            first.service.shutdown_grace = 3.0  # "finishing" ends within it, "stuck" cannot
        with running_gateway(tmp_path, invoker=invoker) as second:
            sfn = second.client()
            machines = {m["name"]: m for m in sfn.list_state_machines()["stateMachines"]}
            assert sorted(machines) == ["fast", "gated", "kept", "slow"]
            described = sfn.describe_state_machine(stateMachineArn=kept["stateMachineArn"])
            assert (described["definition"], described["roleArn"], described["creationDate"]) == \
                (PASS, ROLE, kept["creationDate"])
            assert sfn.list_tags_for_resource(resourceArn=kept["stateMachineArn"])["tags"] == \
                [{"key": "team", "value": "scones"}]
            assert sfn.describe_state_machine(stateMachineArn=express["stateMachineArn"])["type"] == "EXPRESS"
            assert sfn.describe_state_machine(stateMachineArn=gated)["definition"] == GATED
            # executions: finished before, finished within the grace, aborted by the stop
            after = sfn.describe_execution(executionArn=done["executionArn"])
            assert (after["status"], after["input"], json.loads(after["output"])) == \
                ("SUCCEEDED", '{"a":1}', {"a": 1, "one": {"n": 1}})
            assert after["startDate"] == done["startDate"]
            assert wait_for(sfn, finishing["executionArn"])["status"] == "SUCCEEDED"
            aborted = sfn.describe_execution(executionArn=stuck["executionArn"])
            assert (aborted["status"], aborted["cause"]) == ("ABORTED", SHUTDOWN_CAUSE)
            history = sfn.get_execution_history(executionArn=stuck["executionArn"])["events"]
            assert history[-1]["type"] == "ExecutionAborted"
            assert [e["name"] for e in sfn.list_executions(stateMachineArn=gated)["executions"]] == \
                ["stuck", "old-revision"]
            # the revision an execution ran with is still known, and names stay taken
            for_old = sfn.describe_state_machine_for_execution(executionArn=old["executionArn"])
            assert (for_old["definition"], for_old.get("revisionId")) == (GATED, None)
            assert update["revisionId"] != sfn.describe_state_machine(stateMachineArn=gated)["revisionId"]
            with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
                sfn.start_execution(stateMachineArn=kept["stateMachineArn"], name="done", input='{"a": 1}')
            again = sfn.start_execution(stateMachineArn=kept["stateMachineArn"], name="after-restart")
            assert wait_for(sfn, again["executionArn"])["status"] == "SUCCEEDED"
    finally:
        gates.open_all()
