"""Choice state: the spec's examples and every operator family."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import run


def choose(rule: dict[str, Any], data: Any, default: bool = True) -> str:
    states: dict[str, Any] = {
        "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]},
        "Yes": {"Type": "Pass", "Result": "yes", "End": True},
        "No": {"Type": "Pass", "Result": "no", "End": True},
    }
    if default:
        states["C"]["Default"] = "No"
    execution = run({"StartAt": "C", "States": states}, data)
    assert execution.status.value == "SUCCEEDED", execution.result()
    return execution.output  # type: ignore[no-any-return]


SPEC_RULE = {"Not": {"Variable": "$.type", "StringEquals": "Private"}}
SPEC_AND = {"And": [{"Variable": "$.value", "IsPresent": True}, {"Variable": "$.value", "IsNumeric": True},
                    {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                    {"Variable": "$.value", "NumericLessThan": 30}]}


@pytest.mark.parametrize(("rule", "data", "expected"), [
    (SPEC_RULE, {"type": "Public"}, "yes"),
    (SPEC_RULE, {"type": "Private"}, "no"),
    (SPEC_AND, {"value": 25}, "yes"),
    (SPEC_AND, {"value": 30}, "no"),
    (SPEC_AND, {"other": 1}, "no"),
    ({"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold"}, {"rating": 53, "auditThreshold": 60},
     "no"),
    ({"Variable": "$.foo", "StringMatches": "log-*.txt"}, {"foo": "log-2024.txt"}, "yes"),
    ({"Variable": "$.foo", "StringMatches": "log-\\*.txt"}, {"foo": "log-2024.txt"}, "no"),
    ({"Variable": "$.foo", "StringMatches": "log-\\*.txt"}, {"foo": "log-*.txt"}, "yes"),
    ({"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00Z"}, {"t": "2016-03-14T01:58:00+00:00"}, "yes"),
    ({"Variable": "$.t", "TimestampEqualsPath": "$.u"}, {"t": "2016-03-14T01:59:00Z", "u": "2016-03-14T02:59:00+01:00"},
     "yes"),
    ({"Variable": "$.b", "BooleanEquals": True}, {"b": 1}, "no"),
    ({"Variable": "$.n", "NumericEquals": 1}, {"n": "1"}, "no"),
    ({"Variable": "$.s", "StringLessThan": "b"}, {"s": "a"}, "yes"),
    ({"Variable": "$.x", "IsNull": True}, {"x": None}, "yes"),
    ({"Variable": "$.x", "IsPresent": False}, {}, "yes"),
    ({"Variable": "$.x", "IsString": True}, {"x": "s"}, "yes"),
    ({"Variable": "$.x", "IsBoolean": True}, {"x": False}, "yes"),
    ({"Variable": "$.x", "IsTimestamp": True}, {"x": "2016-03-14T01:59:00Z"}, "yes"),
    ({"Variable": "$.x", "IsTimestamp": True}, {"x": "2016-03-14"}, "no"),
    ({"Or": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.a", "NumericEquals": 2}]}, {"a": 2}, "yes"),
], ids=lambda v: None)
def test_rules(rule: dict[str, Any], data: Any, expected: str) -> None:
    assert choose(rule, data) == expected


def test_no_match_and_no_default_is_no_choice_matched() -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "E"}]},
        "E": {"Type": "Succeed"}}}
    execution = run(definition, {"a": 2})
    assert execution.error == "States.NoChoiceMatched"


def test_missing_variable_is_a_runtime_error() -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "E"}], "Default": "E"},
        "E": {"Type": "Succeed"}}}
    execution = run(definition, {})
    assert execution.error == "States.Runtime"
    assert "Invalid path '$.a'" in (execution.cause or "")


def test_choice_output_path_applies_to_its_input() -> None:
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "OutputPath": "$.keep", "Choices": [
            {"Variable": "$.a", "NumericEquals": 1, "Next": "E"}]},
        "E": {"Type": "Succeed"}}}
    assert run(definition, {"a": 1, "keep": {"k": True}}).output == {"k": True}
