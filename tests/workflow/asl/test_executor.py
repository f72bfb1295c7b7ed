from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scones.workflow.asl import Executor, FakeClock
from scones.workflow.asl.errors import InputError

from .helpers import run


def test_many_executions_run_concurrently_without_sharing_state() -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"mine.$": "$.n"}, "Next": "W"},
        "W": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B",
              "Parameters": {"FunctionName": "slow", "Payload.$": "$"}, "ResultPath": None},
        "B": {"Type": "Pass", "Parameters": {"n.$": "$.n", "mine.$": "$mine", "name.$": "$$.Execution.Name"},
              "End": True}}}
    barrier = threading.Barrier(4, timeout=10)

    def slow(event: Any, context: Any) -> Any:
        barrier.wait()  # all four executions are inside their Task at the same time
        return None

    from scones.workflow.asl import CallableLambdaInvoker

    executor = Executor(definition, invoker=CallableLambdaInvoker({"slow": slow}), clock=FakeClock())
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: executor.run({"n": n}, name=f"run-{n}"), range(4)))
    assert [r.output for r in results] == [{"n": n, "mine": n, "name": f"run-{n}"} for n in range(4)]


def test_wait_states_use_the_clock() -> None:
    clock = FakeClock(start=1_000_000.0)
    definition = {"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 3600, "Next": "W2"},
        "W2": {"Type": "Wait", "TimestampPath": "$.until", "Next": "W3"},
        "W3": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}
    run(definition, {"until": "1970-01-24T03:33:20Z", "s": 5}, clock=clock)  # epoch 2,000,000
    assert clock.sleeps == [3600, 2_000_000 - 1_003_600, 5]


def test_execution_timeout_seconds() -> None:
    definition = {"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}}}
    execution = run(definition, {})
    assert execution.status.value == "TIMED_OUT" and execution.error == "States.Timeout"


@pytest.mark.parametrize("name", ["", "has space", "a/b", "x" * 81, "semi;colon"])
def test_bad_execution_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {}, name=name)


def test_context_object_fields() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$$", "End": True}}}
    output = run(definition, {"k": 1}, name="ctx", state_machine_name="machine").output
    assert output["Execution"]["Id"] == "arn:aws:states:us-east-1:123456789012:execution:machine:ctx"
    assert output["Execution"]["Input"] == {"k": 1} and output["Execution"]["Name"] == "ctx"
    assert output["StateMachine"] == {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:machine",
                                      "Name": "machine"}
    assert output["State"]["Name"] == "A" and output["State"]["EnteredTime"].endswith("Z")


def test_stop_aborts_at_the_next_transition() -> None:
    from scones.workflow.asl import CallableLambdaInvoker

    stop = threading.Event()

    def stopper(event: Any, context: Any) -> Any:
        stop.set()  # StopExecution arrives while the task runs
        return 1

    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "After",
              "Parameters": {"FunctionName": "stopper"}},
        "After": {"Type": "Pass", "End": True}}}
    executor = Executor(definition, invoker=CallableLambdaInvoker({"stopper": stopper}), clock=FakeClock())
    execution = executor.run({}, stop=stop)
    assert execution.status.value == "ABORTED"
    types = [e["type"] for e in execution.events()]
    assert types[-2:] == ["TaskStateExited", "ExecutionAborted"] and "PassStateEntered" not in types
