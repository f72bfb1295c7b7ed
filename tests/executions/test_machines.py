"""State machines made through the execution service: kept on disk, revised, deleted as AWS does it."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from scones.executions import ExecutionRecords, ExecutionService
from scones.executions.machines import MachineStatus, MachineType, StateMachineRegistry
from scones.executions.service import StateMachineAlreadyExists, StateMachineDeleting, StateMachineDoesNotExist
from scones.store import LocalStore
from scones.workflow.asl import CallableLambdaInvoker, ExecutionStatus, FakeClock
from scones.workflow.asl.errors import DefinitionError

ROLE = "arn:aws:iam::123456789012:role/r"


def pass_machine(result: str) -> str:
    return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}})


GATED = json.dumps({"StartAt": "Work", "States": {"Work": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
    "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": True}}})


class Gate:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()

    def __call__(self, event: Any, context: Any) -> Any:
        self.entered.set()
        self.open.wait(30)
        return "done"


def eventually(check: Any, seconds: float = 10.0) -> bool:
    """The execution's thread hands its record over just after ``wait`` returns: poll for what follows."""
    import time

    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def service_on(tmp_path: Path, **kwargs: Any) -> ExecutionService:
    records = ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")
    return ExecutionService(records=records, machines=StateMachineRegistry(tmp_path / "state-machines"), **kwargs)


def test_created_machines_come_back_with_their_revisions_after_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    service = service_on(tmp_path, clock=clock)
    machine, created = service.create_state_machine("m", pass_machine("one"), role_arn=ROLE)
    assert created and machine.arn.endswith(":stateMachine:m") and machine.info.current.revision_id is None
    first = service.run("m", {}, name="before")
    clock.sleep(5)
    updated = service.update_state_machine(machine.arn, definition=pass_machine("two"))
    second = service.run("m", {}, name="after")
    assert (first.output, second.output) == ("one", "two")
    service.close()

    again = service_on(tmp_path, clock=clock)
    kept = again.state_machine("m")
    assert kept.info.definition == pass_machine("two") and kept.info.role_arn == ROLE
    assert kept.info.update_date == updated.info.update_date > kept.info.creation_date
    assert again.run("m", {}, name="later").output == "two"
    _, revision = again.revision_of(again.describe("before"))
    assert revision.definition == pass_machine("one") and revision.revision_id is None
    _, revision = again.revision_of(again.describe("after"))
    assert revision.definition == pass_machine("two") and revision.revision_id == updated.info.current.revision_id
    again.close()


def test_create_is_idempotent_for_the_same_configuration_and_refuses_another(tmp_path: Path) -> None:
    service = service_on(tmp_path)
    first, _ = service.create_state_machine("m", pass_machine("a"), role_arn=ROLE)
    same, created = service.create_state_machine("m", pass_machine("a"), role_arn="arn:aws:iam::1:role/other")
    assert not created and same.info == first.info  # another role is ignored, as on AWS
    with pytest.raises(StateMachineAlreadyExists):
        service.create_state_machine("m", pass_machine("b"), role_arn=ROLE)
    with pytest.raises(StateMachineAlreadyExists):
        service.create_state_machine("m", pass_machine("a"), role_arn=ROLE, type=MachineType.EXPRESS)
    with pytest.raises(DefinitionError):
        service.create_state_machine("bad", "{}", role_arn=ROLE)
    assert [m.name for m in service.state_machines()] == ["m"]
    service.close()


def test_an_update_that_changes_nothing_keeps_the_revision(tmp_path: Path) -> None:
    service = service_on(tmp_path)
    service.create_state_machine("m", pass_machine("a"), role_arn=ROLE)
    one = service.update_state_machine("m", role_arn="arn:aws:iam::123456789012:role/new")
    two = service.update_state_machine("m", role_arn="arn:aws:iam::123456789012:role/new")
    assert one.info.current.revision_id is not None and two.info == one.info
    service.close()


@pytest.mark.timeout(60)
def test_delete_waits_for_running_executions_and_refuses_new_ones(tmp_path: Path) -> None:
    gate = Gate()
    records = ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")
    registry = StateMachineRegistry(tmp_path / "state-machines")
    service = ExecutionService(invoker=CallableLambdaInvoker({"work": gate}), records=records, machines=registry)
    service.create_state_machine("gated", GATED, role_arn=ROLE)
    try:
        run = service.start("gated", {}, name="slow")
        assert gate.entered.wait(10)
        service.delete_state_machine("gated")
        assert service.state_machine("gated").info.status is MachineStatus.DELETING
        assert [i.status for i in registry.load()] == [MachineStatus.DELETING]
        with pytest.raises(StateMachineDeleting):
            service.start("gated", {})
        gate.open.set()
        assert service.wait(run.record.name, timeout=10).status is ExecutionStatus.SUCCEEDED
        assert eventually(lambda: "gated" not in {m.name for m in service.state_machines()})
        with pytest.raises(StateMachineDoesNotExist):
            service.state_machine("gated")
        assert registry.load() == []
        service.delete_state_machine("gated")  # unknown: nothing to do, no error
    finally:
        gate.open.set()
        service.close()


@pytest.mark.timeout(60)
def test_a_repeated_start_of_a_running_execution_with_the_same_input_is_the_same_execution(tmp_path: Path) -> None:
    from scones.executions import ExecutionAlreadyExists

    gate = Gate()
    service = ExecutionService(invoker=CallableLambdaInvoker({"work": gate}))
    service.register("gated", GATED)
    try:
        run = service.start("gated", {"a": 1}, name="once")
        assert gate.entered.wait(10)
        assert service.start("gated", {"a": 1}, name="once") is run
        with pytest.raises(ExecutionAlreadyExists):
            service.start("gated", {"a": 2}, name="once")
        gate.open.set()
        service.wait("once", timeout=10)
        with pytest.raises(ExecutionAlreadyExists):  # ended: the name stays taken
            service.start("gated", {"a": 1}, name="once")
    finally:
        gate.open.set()
        service.close()


def test_express_executions_have_their_own_arns_reuse_names_and_are_not_kept(tmp_path: Path) -> None:
    service = service_on(tmp_path)
    service.create_state_machine("fast", pass_machine("x"), role_arn=ROLE, type=MachineType.EXPRESS)
    one = service.run("fast", {}, name="same")
    two = service.run("fast", {}, name="same")
    assert one.execution_arn != two.execution_arn
    prefix = f"arn:aws:states:{service.region}:{service.account}:express:fast:same:"
    assert one.execution_arn.startswith(prefix) and two.execution_arn.startswith(prefix)
    assert service.describe(two.execution_arn).output == "x"
    assert one.events()[0]["executionStartedEventDetails"]["roleArn"] == ROLE
    service.flush()
    assert service.records is not None and not service.records.exists("same")
    service.close()


def test_a_damaged_or_no_longer_valid_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    registry = StateMachineRegistry(tmp_path / "state-machines")
    (registry.folder / "broken.json").write_text("{not json", encoding="utf-8")
    service = ExecutionService(machines=registry)
    service.create_state_machine("good", pass_machine("a"), role_arn=ROLE)
    service.close()
    assert [m.name for m in ExecutionService(machines=StateMachineRegistry(registry.folder)).state_machines()] \
        == ["good"]
