"""JSONata mode and variables, from the developer guide's JSONata and variables pages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .helpers import run

INVOKE = "arn:aws:states:::lambda:invoke"


def jsonata(states: dict[str, Any], start: str = "S") -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": start, "States": states}


def output_of(expression: str, data: Any = None) -> Any:
    execution = run(jsonata({"S": {"Type": "Pass", "Output": expression, "End": True}}), data or {})
    assert execution.status.value == "SUCCEEDED", execution.result()
    return execution.output


@pytest.mark.parametrize(("expression", "expected"), [
    ("{% $partition([1,2,3,4], 2) %}", [[1, 2], [3, 4]]),
    ("{% $range(0, 10, 2) %}", [0, 2, 4, 6, 8, 10]),
    ("{% $hash('input data', 'SHA-1') %}", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("{% $parse('{\"a\": [1, 2]}') %}", {"a": [1, 2]}),
    ("{% $sum($states.input.items.price) %}", 30),
    ("{% $states.input.items[price > 10].name %}", "b"),
    ("{% $states.context.State.Name %}", "S"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_expressions_and_aws_functions(expression: str, expected: Any) -> None:
    data = {"items": [{"name": "a", "price": 10}, {"name": "b", "price": 20}]}
    assert output_of(expression, data) == expected


def test_random_and_uuid() -> None:
    assert 0 <= output_of("{% $random() %}") < 1
    assert uuid.UUID(output_of("{% $uuid() %}")).version == 4


def test_output_templates_mix_literals_and_expressions() -> None:
    assert output_of({"fixed": 1, "list": ["{% 1 + 1 %}", "x"], "in": "{% $states.input.v %}"}, {"v": True}) == {
        "fixed": 1, "list": [2, "x"], "in": True}


def test_task_arguments_output_and_assign() -> None:
    definition = jsonata({
        "S": {"Type": "Task", "Resource": INVOKE, "Next": "T",
              "Arguments": {"FunctionName": "double", "Payload": {"n": "{% $states.input.n %}"}},
              "Assign": {"doubled": "{% $states.result.Payload %}"},
              "Output": {"raw": "{% $states.result.StatusCode %}"}},
        "T": {"Type": "Pass", "Output": {"doubled": "{% $doubled %}", "previous": "{% $states.input %}"},
              "End": True}})
    execution = run(definition, {"n": 21}, functions={"double": lambda e, c: e["n"] * 2})
    assert execution.output == {"doubled": 42, "previous": {"raw": 200}}


def test_choice_condition_with_assign_and_output() -> None:
    definition = jsonata({
        "C": {"Type": "Choice", "Default": "Other", "Choices": [
            {"Condition": "{% $states.input.type = 'Private' %}", "Next": "Private",
             "Assign": {"seen": "{% $states.input.type %}"}, "Output": {"picked": "private"}}]},
        "Private": {"Type": "Pass", "Output": {"picked": "{% $states.input.picked %}", "seen": "{% $seen %}"},
                    "End": True},
        "Other": {"Type": "Succeed"}}, start="C")
    assert run(definition, {"type": "Private"}).output == {"picked": "private", "seen": "Private"}
    assert run(definition, {"type": "Public"}).output == {"type": "Public"}


def test_map_items_item_selector_and_context() -> None:
    definition = jsonata({"M": {"Type": "Map", "Items": "{% $states.input.list %}", "End": True,
                                "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}",
                                                 "i": "{% $states.context.Map.Item.Index %}"},
                                "ItemProcessor": {"StartAt": "P", "States": {
                                    "P": {"Type": "Pass", "Output": "{% $states.input.v * 10 + $states.input.i %}",
                                          "End": True}}}}}, start="M")
    assert run(definition, {"list": [1, 2]}).output == [10, 21]


def test_catch_error_output_and_fail_expressions() -> None:
    def boom(event: Any, context: Any) -> Any:
        raise KeyError("k")

    definition = jsonata({
        "T": {"Type": "Task", "Resource": INVOKE, "Arguments": {"FunctionName": "boom"}, "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F",
                         "Assign": {"err": "{% $states.errorOutput.Error %}"},
                         "Output": {"input": "{% $states.input %}"}}]},
        "F": {"Type": "Fail", "Error": "{% 'Wrapped.' & $err %}", "Cause": "{% $string($states.input.input) %}"}},
        start="T")
    execution = run(definition, {"a": 1}, functions={"boom": boom})
    assert (execution.error, execution.cause) == ("Wrapped.KeyError", "{\"a\":1}")


def test_undefined_result_is_a_query_evaluation_error_with_an_evaluation_failed_event() -> None:
    execution = run(jsonata({"S": {"Type": "Pass", "Output": {"r": "{% $states.input.nope %}"}, "End": True}}), {})
    assert execution.error == "States.QueryEvaluationError"
    assert execution.cause == ("An error occurred while executing the state 'S' (entered at the event id #2). The "
                               "JSONata expression '$states.input.nope' specified for the field 'Output/r' returned "
                               "nothing (undefined).")
    assert [e["type"] for e in execution.events()][-2:] == ["EvaluationFailed", "ExecutionFailed"]


def test_timeout_seconds_as_expression() -> None:
    from scones.workflow.asl import FakeClock

    clock = FakeClock()

    def slow(event: Any, context: Any) -> Any:
        clock.sleep(10)
        return 1

    definition = jsonata({"T": {"Type": "Task", "Resource": INVOKE, "Arguments": {"FunctionName": "slow"},
                                "TimeoutSeconds": "{% $states.input.t %}", "End": True}}, start="T")
    assert run(definition, {"t": 5}, functions={"slow": slow}, clock=clock).error == "States.Timeout"


def test_jsonpath_state_inside_a_jsonpath_machine_may_use_jsonata_per_state() -> None:
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"v.$": "$.x"}, "Next": "B"},
        "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $v + 1 %}", "End": True}}}
    assert run(definition, {"x": 1}).output == 2


def test_variables_are_assigned_after_output_is_computed() -> None:
    definition = jsonata({"A": {"Type": "Pass", "Assign": {"n": 1}, "Next": "B"},
                          "B": {"Type": "Pass", "Assign": {"n": "{% $n + 1 %}"}, "Output": "{% $n %}",
                                "Next": "C"},
                          "C": {"Type": "Pass", "Output": {"before": "{% $states.input %}", "now": "{% $n %}"},
                                "End": True}}, start="A")
    assert run(definition, {}).output == {"before": 1, "now": 2}


def test_variable_size_limit() -> None:
    definition = jsonata({"A": {"Type": "Pass", "End": True,
                                "Assign": {"big": "{% $join([1..$states.input.n].($states.input.s)) %}"}}}, start="A")
    assert run(definition, {"s": "x" * 1000, "n": 200}).status.value == "SUCCEEDED"
    big = run(definition, {"s": "x" * 1000, "n": 300})
    assert big.error == "States.DataLimitExceeded" and "'big'" in (big.cause or "")


@pytest.mark.parametrize(("error", "cause", "shown"), [
    ("{% 42 %}", "ok", "The Error field must evaluate to a string, but was '42'"),
    ("E", "{% [1, 2] %}", "The Cause field must evaluate to a string, but was '[1,2]'"),
])
def test_fail_error_and_cause_must_evaluate_to_strings(error: str, cause: str, shown: str) -> None:
    """A number or object as the error name used to crash the run (or become the error itself)."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "F",
                  "States": {"F": {"Type": "Fail", "Error": error, "Cause": cause}}}
    execution = run(definition, {})
    assert execution.status.value == "FAILED" and execution.error == "States.QueryEvaluationError"
    assert shown in (execution.cause or "")


def test_seconds_path_beyond_the_wait_limit_fails_instead_of_waiting() -> None:
    """'You must specify time as an integer value from 0 to 99999999': a run must not start waiting three years."""
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}
    execution = run(definition, {"s": 100_000_000})
    assert execution.status.value == "FAILED" and execution.error == "States.Runtime"
    assert "The SecondsPath parameter does not reference a valid integer value" in (execution.cause or "")
