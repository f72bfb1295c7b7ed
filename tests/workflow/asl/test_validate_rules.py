"""One bad definition per validation rule of the issue: AWS's code, the JSON pointer, and the rule in the message."""

from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl import validate_definition

LAMBDA = "arn:aws:states:::lambda:invoke"


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "f"}, "End": True, **fields}


def pass_(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "End": True, **fields}


# (rule, definition, code, JSON pointer, words the message must contain)
RULES: list[tuple[str, Any, str, str, str]] = [
    # unknown or misplaced fields
    ("unknown top-level field", {**machine(A=pass_()), "Bogus": 1},
     "SCHEMA_VALIDATION_FAILED", "/Bogus", "\"Bogus\" is not supported"),
    ("unknown state field", machine(A=pass_(Bogus=1)),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Bogus", "\"Bogus\" is not supported"),
    ("field of another state type", machine(A={"Type": "Succeed", "ResultPath": "$.x"}),
     "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath", "\"ResultPath\" is not supported"),
    ("JSONata field in a JSONPath state", machine(A=pass_(Output={})),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Output", "not supported for QueryLanguage JSONPath"),
    ("JSONPath field in a JSONata state", {"QueryLanguage": "JSONata", **machine(A=pass_(InputPath="$"))},
     "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath", "not supported for QueryLanguage JSONata"),
    ("unknown field in a nested branch", machine(P={"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "B", "States": {"B": pass_(Bogus=1)}}]}),
     "SCHEMA_VALIDATION_FAILED", "/States/P/Branches/0/States/B/Bogus", "\"Bogus\" is not supported"),
    ("Retry on a Pass state", machine(A=pass_(Retry=[{"ErrorEquals": ["X"]}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry", "\"Retry\" is not supported"),
    ("Next on a Choice state", machine(C={"Type": "Choice", "Next": "E", "Choices": [
        {"Variable": "$.a", "IsPresent": True, "Next": "E"}]}, E={"Type": "Succeed"}),
     "SCHEMA_VALIDATION_FAILED", "/States/C/Next", "\"Next\" is not supported"),
    ("unknown state type", machine(A={"Type": "Sleep", "End": True}),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Type", "Type must be one of"),
    ("missing Type", machine(A={"End": True}),
     "SCHEMA_VALIDATION_FAILED", "/States/A", "[Type]"),
    # Next / End
    ("neither Next nor End", {"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": {"Type": "Succeed"}}},
     "SCHEMA_VALIDATION_FAILED", "/States/A", "[Next or End]"),
    ("both Next and End", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "End": True},
                                                      "B": {"Type": "Succeed"}}},
     "SCHEMA_VALIDATION_FAILED", "/States/A", "Only one of \"Next\" or \"End\""),
    ("End false", {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": False}, "B": {"Type": "Succeed"}}},
     "SCHEMA_VALIDATION_FAILED", "/States/A/End", "\"End\" must be true"),
    ("no terminal state", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                                      "B": {"Type": "Pass", "Next": "A"}}},
     "MISSING_TERMINAL_STATE", "", "No terminal state"),
    # transitions to missing states
    ("StartAt to a missing state", {"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}},
     "MISSING_TRANSITION_TARGET", "/StartAt", "Missing 'StartAt' target: Nope"),
    ("Next to a missing state", {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"},
                                                            "B": {"Type": "Succeed"}}},
     "MISSING_TRANSITION_TARGET", "/States/A/Next", "Missing 'Next' target: Nope"),
    ("Catch Next to a missing state", machine(A=task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Nope"}])),
     "MISSING_TRANSITION_TARGET", "/States/A/Catch/0/Next", "Nope"),
    ("Choice Default to a missing state", machine(C={"Type": "Choice", "Default": "Nope", "Choices": [
        {"Variable": "$.a", "IsPresent": True, "Next": "E"}]}, E={"Type": "Succeed"}),
     "MISSING_TRANSITION_TARGET", "/States/C/Default", "Nope"),
    ("Choice rule Next to a missing state", machine(C={"Type": "Choice", "Default": "E", "Choices": [
        {"Variable": "$.a", "IsPresent": True, "Next": "Nope"}]}, E={"Type": "Succeed"}),
     "MISSING_TRANSITION_TARGET", "/States/C/Choices/0/Next", "Nope"),
    ("Next into another branch", machine(P={"Type": "Parallel", "Next": "E", "Branches": [
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "E"}}}]}, E={"Type": "Succeed"}),
     "MISSING_TRANSITION_TARGET", "/States/P/Branches/0/States/B/Next", "Missing 'Next' target: E"),
    # unreachable states
    ("unreachable state", machine(A=pass_(), B={"Type": "Succeed"}),
     "UNREACHABLE_STATE", "/States/B", "\"B\" is not reachable"),
    # paths and reference paths
    ("invalid InputPath", machine(A=pass_(InputPath="a.b")),
     "INVALID_JSON_PATH", "/States/A/InputPath", "not a valid JsonPath"),
    ("invalid OutputPath", machine(A=pass_(OutputPath="$.a[")),
     "INVALID_JSON_PATH", "/States/A/OutputPath", "not a valid JsonPath"),
    ("ResultPath is not a reference path", machine(A=pass_(ResultPath="$.a[*]")),
     "INVALID_JSON_PATH", "/States/A/ResultPath", "not a valid Reference Path"),
    ("variable in ResultPath", machine(A=pass_(ResultPath="$x.a")),
     "INVALID_JSON_PATH", "/States/A/ResultPath", "variables cannot be used in ResultPath"),
    ("variable in a catcher's ResultPath",
     machine(A=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "ResultPath": "$err"}])),
     "INVALID_JSON_PATH", "/States/A/Catch/0/ResultPath", "variables cannot be used in ResultPath"),
    ("ItemsPath is not a reference path", machine(M={"Type": "Map", "End": True, "ItemsPath": "$..a",
                                                     "ItemProcessor": {"StartAt": "B", "States": {"B": pass_()}}}),
     "INVALID_JSON_PATH", "/States/M/ItemsPath", "not a valid Reference Path"),
    ("invalid path in Parameters", machine(A=pass_(Parameters={"x.$": "$.a["})),
     "INVALID_JSON_PATH", "/States/A/Parameters/x.$", "not a valid JsonPath"),
    ("invalid Choice Variable", machine(C={"Type": "Choice", "Choices": [
        {"Variable": "a", "IsPresent": True, "Next": "E"}]}, E={"Type": "Succeed"}),
     "INVALID_JSON_PATH", "/States/C/Choices/0/Variable", "not a valid JsonPath"),
    ("path field that is not a string", machine(A=pass_(Parameters={"x.$": 3})),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/x.$", "must be a STRING"),
    # intrinsic functions
    ("unclosed intrinsic call", machine(A=pass_(Parameters={"x.$": "States.Format('a {}', $.b"})),
     "INVALID_INTRINSIC_FUNCTION", "/States/A/Parameters/x.$", "not a valid intrinsic function"),
    ("unknown intrinsic function", machine(A=pass_(Parameters={"x.$": "States.Nope($.a)"})),
     "INVALID_INTRINSIC_FUNCTION", "/States/A/Parameters/x.$", "not a valid intrinsic function"),
    ("bad intrinsic in ResultSelector", machine(A=task(ResultSelector={"x.$": "States.Array("})),
     "INVALID_INTRINSIC_FUNCTION", "/States/A/ResultSelector/x.$", "not a valid intrinsic function"),
    # Retry / Catch
    ("Retry without ErrorEquals", machine(A=task(Retry=[{"MaxAttempts": 2}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0", "[ErrorEquals]"),
    ("empty ErrorEquals", machine(A=task(Retry=[{"ErrorEquals": []}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals", "non-empty array"),
    ("unknown Retry field", machine(A=task(Retry=[{"ErrorEquals": ["X"], "Delay": 1}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/Delay", "\"Delay\" is not supported"),
    ("negative MaxAttempts", machine(A=task(Retry=[{"ErrorEquals": ["X"], "MaxAttempts": -1}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/MaxAttempts", "MaxAttempts must be an integer >= 0"),
    ("IntervalSeconds zero", machine(A=task(Retry=[{"ErrorEquals": ["X"], "IntervalSeconds": 0}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/IntervalSeconds", "IntervalSeconds must be an integer >= 1"),
    ("BackoffRate below 1", machine(A=task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0.5}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/BackoffRate", "BackoffRate must be a number >= 1.0"),
    ("bad JitterStrategy", machine(A=task(Retry=[{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/JitterStrategy", "JitterStrategy must be FULL or NONE"),
    ("Retry is not an array", machine(A=task(Retry={"ErrorEquals": ["X"]})),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry", "Retry must be an array"),
    ("Catch without Next", machine(A=task(Catch=[{"ErrorEquals": ["States.ALL"]}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0", "[Next]"),
    ("unknown Catch field", machine(A=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "Retry": 1}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0/Retry", "\"Retry\" is not supported"),
    ("Catch ResultPath is not a reference path",
     machine(A=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "ResultPath": "$.a[0:1]"}])),
     "INVALID_JSON_PATH", "/States/A/Catch/0/ResultPath", "not a valid Reference Path"),
    # States.ALL not last / not alone
    ("States.ALL not alone", machine(A=task(Retry=[{"ErrorEquals": ["States.ALL", "X"]}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals", "States.ALL must appear alone"),
    ("States.ALL not the last retrier", machine(A=task(Retry=[{"ErrorEquals": ["States.ALL"]},
                                                              {"ErrorEquals": ["X"]}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals", "only in the last"),
    ("States.ALL not the last catcher", machine(A=task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "A"},
                                                              {"ErrorEquals": ["X"], "Next": "A"}])),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0/ErrorEquals", "only in the last"),
    # unknown resources
    ("unknown service integration", machine(A=task(Resource="arn:aws:states:::nosuch:doIt")),
     "INVALID_RESOURCE", "/States/A/Resource", "is not recognized"),
    ("not a resource ARN", machine(A=task(Resource="hello")),
     "INVALID_RESOURCE", "/States/A/Resource", "is not recognized"),
    ("Task without Resource", machine(A={"Type": "Task", "End": True}),
     "SCHEMA_VALIDATION_FAILED", "/States/A", "[Resource]"),
    # timeouts and heartbeats
    ("HeartbeatSeconds not below TimeoutSeconds", machine(A=task(TimeoutSeconds=10, HeartbeatSeconds=10)),
     "SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds", "smaller than TimeoutSeconds"),
    ("HeartbeatSeconds not positive", machine(A=task(HeartbeatSeconds=0)),
     "SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds", "positive integer"),
    ("both TimeoutSeconds and TimeoutSecondsPath", machine(A=task(TimeoutSeconds=5, TimeoutSecondsPath="$.t")),
     "SCHEMA_VALIDATION_FAILED", "/States/A", "Only one of \"TimeoutSeconds\" or \"TimeoutSecondsPath\""),
    ("state machine TimeoutSeconds not positive", {**machine(A=pass_()), "TimeoutSeconds": 0},
     "SCHEMA_VALIDATION_FAILED", "/TimeoutSeconds", "positive integer"),
    # other state types
    ("Wait longer than AWS allows", machine(W={"Type": "Wait", "Seconds": 100_000_000, "End": True}),
     "SCHEMA_VALIDATION_FAILED", "/States/W/Seconds", "integer from 0 to 99999999"),
    ("Wait with two durations", machine(W={"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}),
     "SCHEMA_VALIDATION_FAILED", "/States/W", "Exactly one of Seconds"),
    ("unknown Choice Rule field", machine(C={"Type": "Choice", "Choices": [
        {"Variable": "$.a", "IsNull": True, "Next": "E", "Bogus": 1}]}, E={"Type": "Succeed"}),
     "SCHEMA_VALIDATION_FAILED", "/States/C/Choices/0/Bogus", "\"Bogus\" is not supported"),
    ("JSONPath field in a JSONata Choice Rule", {"QueryLanguage": "JSONata", **machine(C={
        "Type": "Choice", "Choices": [{"Condition": "{% true %}", "Variable": "$.a", "Next": "E"}]},
        E={"Type": "Succeed"})},
     "SCHEMA_VALIDATION_FAILED", "/States/C/Choices/0/Variable", "\"Variable\" is not supported"),
    ("Choice rule with two operators", machine(C={"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringEquals": "x", "IsNull": True, "Next": "E"}]}, E={"Type": "Succeed"}),
     "SCHEMA_VALIDATION_FAILED", "/States/C/Choices/0", "exactly one comparison operator"),
    ("invalid JSONata", {"QueryLanguage": "JSONata", **machine(A=pass_(Output="{% $states.input. %}"))},
     "INVALID_JSONATA", "/States/A/Output", "is not valid"),
    ("intrinsic functions nested more than 10 deep",
     machine(A=pass_(Parameters={"x.$": "States.Array(" * 11 + "1" + ")" * 11})),
     "INVALID_INTRINSIC_FUNCTION", "/States/A/Parameters/x.$", "more than 10 nested"),
    ("undefined variable", machine(A=pass_(Parameters={"x.$": "$nope"})),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/x.$", "'nope' is referenced but never assigned"),
    ("invalid variable name", machine(A=pass_(Assign={"1x": 1})),
     "SCHEMA_VALIDATION_FAILED", "/States/A/Assign/1x", "variable name \"1x\" is not valid"),
]


@pytest.mark.parametrize(("rule", "definition", "code", "pointer", "words"), RULES, ids=[r[0] for r in RULES])
def test_each_rule_is_reported_with_its_location(rule: str, definition: Any, code: str, pointer: str,
                                                  words: str) -> None:
    errors = validate_definition(definition)
    matching = [e for e in errors if e.code == code and e.location == pointer]
    assert matching, f"{rule}: expected {code} at {pointer!r}, got {[str(e) for e in errors]}"
    assert any(words in e.message for e in matching), [e.message for e in matching]
    assert all(pointer in str(e) or pointer == "" for e in matching)  # the pointer is in what users see


def test_a_valid_definition_has_no_problems() -> None:
    a = task(TimeoutSeconds=10, HeartbeatSeconds=5, ResultPath="$.r",
             Retry=[{"ErrorEquals": ["X"]}, {"ErrorEquals": ["States.ALL"]}],
             Catch=[{"ErrorEquals": ["States.ALL"], "Next": "B", "ResultPath": "$.e"}])
    a.pop("End")
    a["Next"] = "B"
    assert validate_definition(machine(A=a, B={"Type": "Succeed"})) == []
