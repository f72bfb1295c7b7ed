"""Execution-wide quotas and ending an execution early: history size, variable sizes, stop, timeouts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.workflow.asl.helpers import one_state, run

from scones.workflow.asl import CallableLambdaInvoker, Executor, FakeClock, SystemClock
from scones.workflow.asl.history import MAX_HISTORY_EVENTS
from scones.workflow.asl.variables import MAX_TOTAL_BYTES, MAX_VARIABLE_BYTES

#: A Pass loop that never ends on its own: 2 events per Pass visit, 2 per Choice visit.
ENDLESS = {"StartAt": "Count", "States": {
    "Count": {"Type": "Pass", "Next": "Again"},
    "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}],
              "Default": "Count"},
    "Done": {"Type": "Succeed"}}}


def test_history_quota_fails_the_execution_with_exactly_the_quota_of_events() -> None:
    execution = run(ENDLESS, {})
    events = execution.events()
    assert execution.status.value == "FAILED" and execution.error == "States.Runtime"
    assert execution.cause == "The execution reached the maximum number of history events (25000)."
    assert len(events) == MAX_HISTORY_EVENTS == 25_000
    assert events[-1]["type"] == "ExecutionFailed" and events[-1]["id"] == 25_000
    assert [e["id"] for e in events] == list(range(1, 25_001))


def test_an_execution_ending_exactly_at_the_quota_succeeds() -> None:
    # 24,998 events of Pass states + ExecutionStarted = 24,999; ExecutionSucceeded is event 25,000.
    count = (MAX_HISTORY_EVENTS - 2) // 2
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(count - 1)}
    states[f"S{count - 1}"] = {"Type": "Pass", "End": True}
    execution = run({"StartAt": "S0", "States": states}, {})
    assert execution.status.value == "SUCCEEDED" and len(execution.events()) == MAX_HISTORY_EVENTS
    longer = {**states, f"S{count - 1}": {"Type": "Pass", "Next": "Last"}, "Last": {"Type": "Pass", "End": True}}
    assert run({"StartAt": "S0", "States": longer}, {}).status.value == "FAILED"


def test_history_quota_is_configurable_and_can_be_lifted() -> None:
    small = Executor(ENDLESS, clock=FakeClock(), max_history_events=10).run({})
    assert small.status.value == "FAILED" and len(small.events()) == 10
    finite = {**ENDLESS, "States": {**ENDLESS["States"], "Count": {"Type": "Pass", "Result": {"stop": 1},
                                                                 "Next": "Again"}}}
    assert Executor(finite, clock=FakeClock(), max_history_events=None).run({}).status.value == "SUCCEEDED"


def test_history_quota_reached_inside_parallel_map_iterations() -> None:
    definition = one_state({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": True}}}})
    execution = Executor(definition, clock=FakeClock(), max_history_events=50).run({"items": list(range(40))})
    assert execution.status.value == "FAILED" and execution.error == "States.Runtime"
    assert len(execution.events()) == 50 and execution.events()[-1]["type"] == "ExecutionFailed"


def _assign_state(name: str, size: int, nxt: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Pass", "Assign": {name: "x" * (size - 2)}}  # 2 = the JSON quotes
    if nxt:
        state["Next"] = nxt
    else:
        state["End"] = True
    return state


def test_variables_up_to_the_per_variable_quota_are_fine() -> None:
    execution = run(one_state(_assign_state("v", MAX_VARIABLE_BYTES, None)), {})
    assert execution.status.value == "SUCCEEDED"


def test_variables_over_10_mib_in_one_execution_fail_with_data_limit_exceeded() -> None:
    count = MAX_TOTAL_BYTES // MAX_VARIABLE_BYTES  # 40 full-size variables fill the quota exactly
    names = [f"S{i}" for i in range(count + 1)]
    states = {n: _assign_state(f"v{i}", MAX_VARIABLE_BYTES, names[i + 1] if i < count else None)
              for i, n in enumerate(names)}
    execution = run({"StartAt": "S0", "States": states}, {})
    assert execution.status.value == "FAILED" and execution.error == "States.DataLimitExceeded"
    assert f"'S{count}'" in (execution.cause or "") and str(MAX_TOTAL_BYTES) in (execution.cause or "")
    exited = [e for e in execution.events() if e["type"] == "PassStateExited"]
    assert len(exited) == count  # every state before the one over the quota completed


def test_reassigning_a_variable_replaces_its_size_instead_of_adding_to_it() -> None:
    count = MAX_TOTAL_BYTES // MAX_VARIABLE_BYTES + 5
    names = [f"S{i}" for i in range(count)]
    states = {n: _assign_state("same", MAX_VARIABLE_BYTES, names[i + 1] if i + 1 < count else None)
              for i, n in enumerate(names)}
    assert run({"StartAt": "S0", "States": states}, {}).status.value == "SUCCEEDED"


def test_map_iteration_variables_stop_counting_when_the_iteration_ends() -> None:
    items = list(range(MAX_TOTAL_BYTES // (MAX_VARIABLE_BYTES // 2) + 4))
    definition = one_state({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {
        "StartAt": "A", "States": {"A": _assign_state("big", MAX_VARIABLE_BYTES // 2, None)}}})
    assert run(definition, {"items": items}).status.value == "SUCCEEDED"


@pytest.mark.timeout(60)  # a broken stop would wait for an hour
def test_stop_during_a_long_wait_aborts_promptly_with_a_real_clock() -> None:
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
                                             "P": {"Type": "Pass", "End": True}}}
    stop = threading.Event()
    timer = threading.Timer(0.05, stop.set)
    timer.start()
    try:
        execution = Executor(definition, clock=SystemClock()).run({}, stop=stop)
    finally:
        timer.cancel()
    assert execution.status.value == "ABORTED"
    assert [e["type"] for e in execution.events()] == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]


@pytest.mark.timeout(60)  # a broken stop would wait for an hour
def test_stop_during_a_retry_backoff_aborts_without_another_attempt() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append(1)
        stop.set()  # StopExecution arrives while the task fails; the retry delay must not run it again
        raise RuntimeError("boom")

    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "flaky"},
                            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3600, "MaxAttempts": 5}]})
    executor = Executor(definition, invoker=CallableLambdaInvoker({"flaky": flaky}), clock=SystemClock())
    execution = executor.run({}, stop=stop)
    assert execution.status.value == "ABORTED" and len(calls) == 1
    assert execution.events()[-1]["type"] == "ExecutionAborted"


def test_state_machine_timeout_ends_a_wait_at_the_deadline() -> None:
    clock = FakeClock()
    definition = {"TimeoutSeconds": 10, "StartAt": "W",
                  "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    execution = Executor(definition, clock=clock).run({})
    assert execution.status.value == "TIMED_OUT" and execution.error == "States.Timeout"
    assert clock.sleeps == [10.0]
    assert [e["type"] for e in execution.events()][-1] == "ExecutionTimedOut"
    assert execution.stop_time == pytest.approx(execution.start_time + 10)


def test_state_machine_timeout_cuts_retry_delays_short() -> None:
    def fails(event: Any, context: Any) -> Any:
        raise RuntimeError("boom")

    definition = {"TimeoutSeconds": 5, **one_state({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "MaxAttempts": 3}]})}
    clock = FakeClock()
    execution = Executor(definition, invoker=CallableLambdaInvoker({"f": fails}), clock=clock).run({})
    assert execution.status.value == "TIMED_OUT"
    assert clock.sleeps == [4, 1.0]  # the second delay (8 s) is cut at the 5-second deadline


def test_wait_within_the_timeout_completes() -> None:
    definition = {"TimeoutSeconds": 100, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30,
                                                                         "End": True}}}
    assert Executor(definition, clock=FakeClock()).run({}).status.value == "SUCCEEDED"


def test_heartbeat_does_not_apply_to_lambda_invoke() -> None:
    # SendTaskHeartbeat is for activities and .waitForTaskToken/.sync tasks; a request-response
    # Lambda invocation has nobody to send heartbeats, so only TimeoutSeconds can end it.
    clock = FakeClock()

    def slow(event: Any, context: Any) -> Any:
        clock.sleep(30)  # runs well past HeartbeatSeconds
        return "done"

    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "slow"}, "OutputPath": "$.Payload",
                            "HeartbeatSeconds": 5, "TimeoutSeconds": 60})
    execution = Executor(definition, invoker=CallableLambdaInvoker({"slow": slow}), clock=clock).run({})
    assert execution.status.value == "SUCCEEDED" and execution.output == "done"
    scheduled = execution.events()[2]["taskScheduledEventDetails"]
    assert scheduled["heartbeatInSeconds"] == 5 and scheduled["timeoutInSeconds"] == 60


@pytest.mark.timeout(60)  # a broken stop would wait for an hour
def test_stop_request_carries_error_and_cause_into_history_and_describe() -> None:
    from scones.workflow.asl import StopRequest

    stop = StopRequest()
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    timer = threading.Timer(0.05, stop.request, kwargs={"error": "Operator", "cause": "maintenance window"})
    timer.start()
    try:
        execution = Executor(definition, clock=SystemClock()).run({}, stop=stop)
    finally:
        timer.cancel()
    assert execution.status.value == "ABORTED"
    assert execution.events()[-1]["executionAbortedEventDetails"] == {"error": "Operator",
                                                                      "cause": "maintenance window"}
    described = execution.describe()
    assert described["status"] == "ABORTED" and described["error"] == "Operator" and "output" not in described


@pytest.mark.timeout(60)  # a broken stop would wait for an hour
def test_stop_while_a_lambda_runs_ends_the_execution_without_waiting_for_it() -> None:
    release = threading.Event()
    stop = threading.Event()

    def hangs(event: Any, context: Any) -> Any:
        stop.set()  # StopExecution arrives while the function is still running
        release.wait(30)
        return 1

    definition = one_state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "hangs"}})
    executor = Executor(definition, invoker=CallableLambdaInvoker({"hangs": hangs}), clock=SystemClock())
    try:
        execution = executor.run({}, stop=stop)
    finally:
        release.set()
    assert execution.status.value == "ABORTED"
    types = [e["type"] for e in execution.events()]
    assert types[-1] == "ExecutionAborted" and "TaskSucceeded" not in types and "TaskStarted" in types


@pytest.mark.timeout(60)  # a broken stop would wait for an hour
def test_failed_branch_cancels_a_sibling_waiting_in_real_time() -> None:
    definition = one_state({"Type": "Parallel", "Branches": [
        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}},
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "failed"}}}]})
    execution = Executor(definition, clock=SystemClock()).run({})
    assert execution.status.value == "FAILED" and execution.error == "Boom"


def sleeps_20_seconds(clock: FakeClock) -> CallableLambdaInvoker:
    """A Lambda function ``slow`` that takes 20 s of the fake clock."""
    def slow(event: Any, context: Any) -> Any:
        clock.sleep(20)
        return 1
    return CallableLambdaInvoker({"slow": slow})


def test_state_machine_timeout_while_a_lambda_runs() -> None:
    clock = FakeClock()
    definition = {"TimeoutSeconds": 10, **one_state({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "slow"},
        "TimeoutSeconds": 60, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]})}
    definition["States"]["Caught"] = {"Type": "Succeed"}
    execution = Executor(definition, invoker=sleeps_20_seconds(clock), clock=clock).run({})
    assert execution.status.value == "TIMED_OUT"  # not a catchable task timeout: the execution's ran out first
    types = [e["type"] for e in execution.events()]
    assert types[-1] == "ExecutionTimedOut" and "TaskSucceeded" not in types


def test_task_timeout_before_the_execution_deadline_is_the_tasks() -> None:
    clock = FakeClock()
    definition = {"TimeoutSeconds": 100, **one_state({
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "slow"},
        "TimeoutSeconds": 5})}
    execution = Executor(definition, invoker=sleeps_20_seconds(clock), clock=clock).run({})
    assert execution.status.value == "FAILED" and execution.error == "States.Timeout"
