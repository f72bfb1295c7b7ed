"""Whole examples from the Amazon States Language specification, run as documented."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import run

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def test_map_state_example_ship_val() -> None:
    definition = {"StartAt": "Validate-All", "States": {"Validate-All": {
        "Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.shipped", "MaxConcurrency": 0,
        "ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
        "ItemProcessor": {"StartAt": "Validate", "States": {
            "Validate": {"Type": "Task", "Resource": ARN + "ship-val", "End": True}}},
        "ResultPath": "$.detail.shipped", "End": True}}}
    shipped = [{"prod": "R31", "dest-code": 9511, "quantity": 1344},
               {"prod": "S39", "dest-code": 9511, "quantity": 40}]
    data = {"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS", "shipped": shipped}}

    def ship_val(event: Any, context: Any) -> Any:
        return {"valid": event["parcel"]["quantity"] > 100, "courier": event["courier"]}

    output = run(definition, data, functions={"ship-val": ship_val}).output
    assert output == {"ship-date": "2016-03-14T01:59:00Z", "detail": {
        "delivery-partner": "UQS", "shipped": [{"valid": True, "courier": "UQS"}, {"valid": False, "courier": "UQS"}]}}


def test_parallel_state_example_lookup_customer_info() -> None:
    definition = {"StartAt": "LookupCustomerInfo", "States": {"LookupCustomerInfo": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "LookupAddress", "States": {"LookupAddress": {
                "Type": "Task", "Resource": ARN + "AddressFinder", "End": True}}},
            {"StartAt": "LookupPhone", "States": {"LookupPhone": {
                "Type": "Task", "Resource": ARN + "PhoneFinder", "End": True}}}]}}}
    functions = {"AddressFinder": lambda e, c: {"address": f"1 Main St ({e['id']})"},
                 "PhoneFinder": lambda e, c: {"phone": f"555-{e['id']}"}}
    assert run(definition, {"id": 7}, functions=functions).output == [{"address": "1 Main St (7)"},
                                                                      {"phone": "555-7"}]


CHOICE_EXAMPLE = {"StartAt": "ChoiceStateX", "States": {
    "ChoiceStateX": {"Type": "Choice", "Default": "DefaultState", "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"And": [{"Variable": "$.value", "IsPresent": True}, {"Variable": "$.value", "IsNumeric": True},
                 {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"},
        {"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold", "Next": "StartAudit"}]},
    "Public": {"Type": "Pass", "Result": "Public", "End": True},
    "ValueInTwenties": {"Type": "Pass", "Result": "ValueInTwenties", "End": True},
    "StartAudit": {"Type": "Pass", "Result": "StartAudit", "End": True},
    "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"}}}


@pytest.mark.parametrize(("data", "expected"), [
    ({"type": "Public"}, "Public"),
    ({"type": "Private", "value": 25}, "ValueInTwenties"),
    ({"type": "Private", "value": 35, "rating": 61, "auditThreshold": 60}, "StartAudit"),
    ({"type": "Private", "value": "25", "rating": 50, "auditThreshold": 60}, None),
])
def test_choice_state_example(data: Any, expected: str | None) -> None:
    execution = run(CHOICE_EXAMPLE, data)
    if expected is None:
        assert (execution.error, execution.cause) == ("DefaultStateError", "No Matches!")
    else:
        assert execution.output == expected


def test_retry_and_catch_example_from_the_spec() -> None:
    calls: list[int] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append(1)
        raise RuntimeError("still broken")

    definition = {"StartAt": "X", "States": {
        "X": {"Type": "Task", "Resource": ARN + "flaky", "Next": "Y",
              "Retry": [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2,
                         "MaxAttempts": 2},
                        {"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 5}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z", "ResultPath": "$.error-info"}]},
        "Y": {"Type": "Pass", "End": True},
        "Z": {"Type": "Pass", "End": True}}}
    execution = run(definition, {"in": 1}, functions={"flaky": flaky})
    assert len(calls) == 4  # the first try and MaxAttempts (default 3) retries of the matching retrier
    assert execution.output["error-info"]["Error"] == "RuntimeError"


def test_wait_examples() -> None:
    from scones.workflow.asl import FakeClock

    clock = FakeClock(start=1_457_917_140.0)  # 2016-03-14T00:59:00Z
    definition = {"StartAt": "wait_ten_seconds", "States": {
        "wait_ten_seconds": {"Type": "Wait", "Seconds": 10, "Next": "wait_until"},
        "wait_until": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "wait_until_path"},
        "wait_until_path": {"Type": "Wait", "TimestampPath": "$.expirydate", "End": True}}}
    run(definition, {"expirydate": "2016-03-14T02:00:00Z"}, clock=clock)
    assert clock.sleeps == [10, 3590, 60]
