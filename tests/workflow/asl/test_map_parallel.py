from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from scones.workflow.asl import FakeClock

from .helpers import run

INVOKE = "arn:aws:states:::lambda:invoke"


def map_of(processor_states: dict[str, Any], start: str, **extra: Any) -> dict[str, Any]:
    return {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, **extra, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": start, "States": processor_states}}}}


def test_map_item_selector_with_context_object() -> None:
    definition = map_of({"P": {"Type": "Pass", "End": True}}, "P", ItemsPath="$.items",
                        ItemSelector={"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "c.$": "$.c"})
    assert run(definition, {"items": ["a", "b"], "c": 1}).output == [{"i": 0, "v": "a", "c": 1},
                                                                     {"i": 1, "v": "b", "c": 1}]


def test_map_runs_lambda_iterations_on_threads_up_to_max_concurrency() -> None:
    lock = threading.Lock()
    active = [0, 0]  # current, peak
    started = threading.Barrier(3, timeout=10)

    def work(event: Any, context: Any) -> Any:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        if event < 3:
            started.wait()  # the first three calls can only pass if they run at the same time
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return event * 10

    definition = map_of({"T": {"Type": "Task", "Resource": INVOKE, "OutputPath": "$.Payload",
                               "Parameters": {"FunctionName": "work", "Payload.$": "$"}, "End": True}}, "T",
                        MaxConcurrency=3)
    execution = run(definition, list(range(9)), functions={"work": work})
    assert execution.output == [i * 10 for i in range(9)]
    assert active[1] == 3


def test_map_failure_propagates_the_iteration_error() -> None:
    definition = map_of({"C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}],
                               "Default": "P"},
                         "F": {"Type": "Fail", "Error": "Two", "Cause": "found 2"},
                         "P": {"Type": "Pass", "End": True}}, "C")
    execution = run(definition, [1, 2, 3])
    assert (execution.error, execution.cause) == ("Two", "found 2")
    types = [e["type"] for e in execution.events()]
    assert "MapIterationFailed" in types and "MapStateFailed" in types


def test_map_tolerated_failures() -> None:
    processor = {"C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "F"}],
                       "Default": "P"},
                 "F": {"Type": "Fail", "Error": "Big"}, "P": {"Type": "Pass", "End": True}}
    ok = run(map_of(processor, "C", ToleratedFailureCount=1), [1, 2])
    assert ok.status.value == "SUCCEEDED" and ok.output == [1, {"Error": "Big"}]
    too_many = run(map_of(processor, "C", ToleratedFailurePercentage=40), [1, 2, 3])
    assert too_many.error == "States.ExceedToleratedFailureThreshold"


def test_parallel_outputs_in_branch_order_and_branch_failure_fails_the_state() -> None:
    def branch(result: Any) -> dict[str, Any]:
        return {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": result, "End": True}}}

    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                                   "Branches": [branch(1), branch({"two": 2})]}}}
    assert run(definition, {}).output == [1, {"two": 2}]
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
    definition["States"]["P"]["Branches"].append(failing)
    definition["States"]["P"]["Catch"] = [{"ErrorEquals": ["E"], "Next": "Done"}]
    definition["States"]["P"].pop("End")
    definition["States"]["P"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    assert run(definition, {}).output == {"Error": "E", "Cause": "c"}


def test_parallel_branches_with_waits_run_concurrently() -> None:
    clock = FakeClock()

    def branch(seconds: int) -> dict[str, Any]:
        return {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}}

    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                                   "Branches": [branch(10), branch(20)]}}}
    execution = run(definition, {"x": 1}, clock=clock)
    assert execution.output == [{"x": 1}, {"x": 1}]
    assert sorted(clock.sleeps) == [10, 20]


def test_variables_do_not_leak_out_of_parallel_branches() -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
        "P": {"Type": "Parallel", "Next": "R", "Branches": [{"StartAt": "B", "States": {
            "B": {"Type": "Pass", "Assign": {"inner.$": "$x"}, "Parameters": {"seen.$": "$x"}, "Next": "B2"},
            "B2": {"Type": "Pass", "Parameters": {"inner.$": "$inner"}, "End": True}}}]},
        "R": {"Type": "Pass", "Parameters": {"x.$": "$x", "branch.$": "$[0]"}, "End": True}}}
    assert run(definition, {}).output == {"x": 1, "branch": {"inner": 1}}


@pytest.mark.parametrize("mode", ["INLINE", "DISTRIBUTED"])
@pytest.mark.parametrize(("field", "value", "expected"), [
    ("MaxConcurrency", "{% 'two' %}", None), ("MaxConcurrency", "{% -1 %}", None),
    ("ToleratedFailureCount", "{% 1.5 %}", None), ("ToleratedFailurePercentage", "{% 500 %}", None),
    ("MaxConcurrency", "{% 1 + 1 %}", [1, 2]), ("ToleratedFailurePercentage", "{% 12.5 %}", [1, 2]),
])
def test_jsonata_number_fields_are_checked_like_their_literals(mode: str, field: str, value: str,
                                                                expected: list[int] | None) -> None:
    config: dict[str, Any] = {"Mode": mode, **({"ExecutionType": "EXPRESS"} if mode == "DISTRIBUTED" else {})}
    definition = {"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "Items": "{% [1, 2] %}", field: value, "ItemProcessor": {
            "ProcessorConfig": config, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}
    execution = run(definition, {})
    if expected is not None:
        assert execution.output == expected, execution.result()
        return
    assert execution.error == "States.QueryEvaluationError", execution.result()
    assert f"specified for the field '{field}' returned" in (execution.cause or "")
