"""ARN substitution and failure publishing on state machine definitions (pure, no AWS)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones.aws.definitions import (
    FAILED_ERROR,
    SNS_PUBLISH,
    add_failure_notifications,
    prepare,
    substitute_functions,
)
from scones.errors import WorkflowError
from scones.workflow.notifications import FailureNotification

ARNS = {f: f"arn:aws:lambda:eu-west-1:111122223333:function:d-{f}" for f in
        ("serializeImageData", "classifyImage", "filterInferences")}
TOPIC = "arn:aws:sns:eu-west-1:111122223333:d-failures"


def invoke(function: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function, "Payload.$": "$"}, **extra}


def test_recorded_definition_gets_our_arns_and_keeps_qualifiers(shared_data: Any) -> None:
    recorded = json.loads((shared_data / "aws-recorded" / "stepfunction.json").read_text())
    out = substitute_functions(recorded, ARNS)
    names = [s["Parameters"]["FunctionName"] for s in out["States"].values() if s["Type"] == "Task"]
    assert names == [ARNS["serializeImageData"] + ":$LATEST", ARNS["classifyImage"] + ":$LATEST",
                     ARNS["filterInferences"] + ":$LATEST"]
    assert "148908537034" not in json.dumps(out)
    assert recorded["States"]["Lambda Invoke"]["Parameters"]["FunctionName"].startswith(
        "arn:aws:lambda:us-east-1:148908537034")  # the input is not modified


@pytest.mark.parametrize("written", ["classifyImage", "classifyImage:live",
                                     "arn:aws:lambda:us-east-1:1:function:classifyImage"],
                         ids=["bare", "qualified", "arn"])
def test_function_names_in_every_spelling(written: str) -> None:
    out = substitute_functions({"StartAt": "A", "States": {"A": invoke(written, End=True)}}, ARNS)
    expected = ARNS["classifyImage"] + (":live" if written.endswith(":live") else "")
    assert out["States"]["A"]["Parameters"]["FunctionName"] == expected


def test_nested_map_and_direct_lambda_resources_are_substituted() -> None:
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "C", "States": {
            "C": invoke("classifyImage", Next="F"),
            "F": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:filterInferences", "End": True},
        }}}}}
    inner = substitute_functions(definition, ARNS)["States"]["M"]["ItemProcessor"]["States"]
    assert inner["C"]["Parameters"]["FunctionName"] == ARNS["classifyImage"]
    assert inner["F"]["Resource"] == ARNS["filterInferences"]


def test_unknown_function_is_refused() -> None:
    with pytest.raises(WorkflowError, match="'resizeImage'"):
        substitute_functions({"StartAt": "A", "States": {"A": invoke("resizeImage", End=True)}}, ARNS)


def test_catch_to_fail_describes_then_publishes() -> None:
    definition = {"StartAt": "A", "States": {
        "A": invoke("filterInferences", End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Oops"}]),
        "Oops": {"Type": "Fail", "Error": "LOW_CONFIDENCE"}}}
    out = add_failure_notifications(definition, TOPIC, "d-workflow")
    states = out["States"]
    describe = states[states["A"]["Catch"][0]["Next"]]
    assert describe["Type"] == "Pass"
    assert describe["Parameters"]["error.$"] == "$.Error"
    assert describe["Parameters"]["execution_arn.$"] == "$$.Execution.Id"
    assert set(describe["Parameters"]) - {"input.$"} <= {f + ("" if f == "status" else ".$") for f in
                                                        FailureNotification.__dataclass_fields__} | {"status"}
    publish = states[describe["Next"]]
    assert publish["Resource"] == SNS_PUBLISH
    assert publish["Parameters"]["TopicArn"] == TOPIC
    assert publish["Parameters"]["Message.$"] == "States.JsonToString($)"
    assert publish["Parameters"]["MessageAttributes"]["execution"]["StringValue.$"] == "$$.Execution.Id"
    assert publish["ResultPath"] is None
    assert publish["Next"] == "Oops"
    assert states["Oops"] == {"Type": "Fail", "Error": "LOW_CONFIDENCE"}
    assert len(states["A"]["Catch"]) == 1  # already caught: no second catcher


def test_the_error_is_read_where_each_route_leaves_it() -> None:
    # The scones definition keeps the image in the state and the error under $.error.
    definition = {"StartAt": "A", "States": {
        "A": invoke("filterInferences", Next="Check", Catch=[
            {"ErrorEquals": ["ThresholdConfidenceNotMet"], "ResultPath": "$.error", "Next": "Low"}]),
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                  "Default": "Low"},
        "Done": {"Type": "Succeed"},
        "Low": {"Type": "Fail", "Error": "ThresholdConfidenceNotMet", "Cause": "below THRESHOLD"}}}
    states = add_failure_notifications(definition, TOPIC, "d-workflow")["States"]
    caught = states[states["A"]["Catch"][0]["Next"]]["Parameters"]
    chosen = states[states["Check"]["Default"]]["Parameters"]
    assert (caught["error.$"], caught["cause.$"]) == ("$.error.Error", "$.error.Cause")
    assert (chosen["error"], chosen["cause"]) == ("ThresholdConfidenceNotMet", "below THRESHOLD")
    publish = {states[states["A"]["Catch"][0]["Next"]]["Next"], states[states["Check"]["Default"]]["Next"]}
    assert len(publish) == 1 and states[publish.pop()]["Next"] == "Low"  # one publisher per Fail state


def test_fail_state_reading_the_state_data_gets_it_unchanged() -> None:
    definition = {"StartAt": "A", "States": {
        "A": invoke("classifyImage", End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "F"}]),
        "F": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"}}}
    states = add_failure_notifications(definition, TOPIC, "d-workflow")["States"]
    publish = states[states["A"]["Catch"][0]["Next"]]
    assert publish["Resource"] == SNS_PUBLISH and publish["ResultPath"] is None and publish["Next"] == "F"


def test_choice_into_fail_and_uncaught_tasks_publish_too() -> None:
    definition = {"StartAt": "A", "States": {
        "A": invoke("classifyImage", Next="Check"),
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                  "Default": "Low"},
        "Done": {"Type": "Succeed"},
        "Low": {"Type": "Fail", "Error": "THRESHOLD_CONFIDENCE_NOT_MET"}}}
    out = add_failure_notifications(definition, TOPIC, "d-workflow")
    states = out["States"]
    assert states[states[states["Check"]["Default"]]["Next"]]["Next"] == "Low"
    catcher = states["A"]["Catch"][-1]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    publish = states[states[catcher["Next"]]["Next"]]
    assert publish["Resource"] == SNS_PUBLISH
    failed = states[publish["Next"]]
    assert failed == {"Type": "Fail", "Error": FAILED_ERROR, "CausePath": "States.Format('{}: {}', $.error, $.cause)"}
    # Every state is reachable: AWS rejects definitions with orphans.
    targets = {out["StartAt"]} | {s.get("Next") for s in states.values()} | {states["Check"]["Default"]} | \
        {c["Next"] for s in states.values() for c in s.get("Choices", []) + s.get("Catch", [])}
    assert set(states) <= targets


def test_prepare_does_both_and_picks_free_state_names() -> None:
    definition = {"StartAt": "A", "States": {"A": invoke("serializeImageData", Next="Failed"),
                                             "Failed": {"Type": "Pass", "Next": "Publish failure (Failed 2)"},
                                             "Publish failure (Failed 2)": {"Type": "Pass", "End": True}}}
    out = prepare(definition, function_arns=ARNS, topic_arn=TOPIC, machine="d-workflow")
    assert out["States"]["Failed"] == {"Type": "Pass", "Next": "Publish failure (Failed 2)"}
    describe = out["States"]["A"]["Catch"][0]["Next"]
    assert describe == "Describe failure (Failed 2)"
    added = out["States"][describe]["Next"]
    assert added == "Publish failure (Failed 2) 2"
    assert out["States"][added]["Next"] == "Failed 2"
    assert out["States"]["Failed 2"]["Type"] == "Fail"
    assert out["States"][added]["Parameters"]["Subject"] == "scones: d-workflow failed"
