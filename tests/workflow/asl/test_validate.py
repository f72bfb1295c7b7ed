from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl import DefinitionError, run_execution, validate_definition


def problems(definition: Any) -> list[tuple[str, str]]:
    return [(e.code, e.location) for e in validate_definition(definition)]


def test_the_recorded_aws_definition_is_valid(shared_data: Any) -> None:
    text = (shared_data / "aws-recorded" / "stepfunction.json").read_text(encoding="utf-8")
    assert validate_definition(text) == []


@pytest.mark.parametrize(("definition", "expected"), [
    ("{not json", [("INVALID_JSON_DESCRIPTION", "")]),
    ({"States": {"A": {"Type": "Succeed"}}}, [("SCHEMA_VALIDATION_FAILED", "")]),
    ({"StartAt": "B", "States": {"A": {"Type": "Succeed"}}},
     [("MISSING_TRANSITION_TARGET", "/StartAt")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}},
     [("MISSING_TRANSITION_TARGET", "/States/A/Next"), ("MISSING_TERMINAL_STATE", "")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}, [("SCHEMA_VALIDATION_FAILED", "/States/A"),
                                                           ("MISSING_TERMINAL_STATE", "")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Bogus")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Succeed", "ResultPath": "$.x"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}, "B": {"Type": "Succeed"}}},
     [("UNREACHABLE_STATE", "/States/B")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "ResultPath": "$.a[*]"}}},
     [("INVALID_JSON_PATH", "/States/A/ResultPath")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "InputPath": "a.b"}}},
     [("INVALID_JSON_PATH", "/States/A/InputPath")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Parameters": {"x.$": 3}}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/x.$")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                                       "Retry": [{"ErrorEquals": ["States.ALL", "X"], "BackoffRate": 0.5}]}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/ErrorEquals"),
      ("SCHEMA_VALIDATION_FAILED", "/States/A/Retry/0/BackoffRate")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                                       "Catch": [{"ErrorEquals": ["States.ALL"]}]}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Catch/0")]),
    ({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringEquals": 1, "NumericEquals": 1, "Next": "E"}]}, "E": {"Type": "Succeed"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices/0")]),
    ({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/W")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Output": {}}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Output")]),
    ({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                                                   "Output": "{% $states.input. %}"}}},
     [("INVALID_JSONATA", "/States/A/Output")]),
    ({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                                                   "QueryLanguage": "JSONPath"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/QueryLanguage")]),
    ({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}]}}},
     [("MISSING_TRANSITION_TARGET", "/States/P/Branches/0/States/X/Next"),
      ("MISSING_TERMINAL_STATE", "/States/P/Branches/0")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"v.$": "$undefinedVar"}, "End": True}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/v.$")]),
    ({"StartAt": "M", "States": {
        "M": {"Type": "Map", "Next": "R", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}}}},
        "R": {"Type": "Pass", "InputPath": "$inner", "End": True}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/R/InputPath")]),
    ({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
        "P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "B", "States": {
            "B": {"Type": "Pass", "Assign": {"x": 2}, "End": True}}}]}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/P/Branches/0/States/B/Assign")]),
    # Choices or Catch that is not an array is a problem to report, not a crash of the reachability check.
    ({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": 5, "Default": "B"}, "B": {"Type": "Succeed"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Choices")]),
    ({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B",
                                       "Catch": 5}, "B": {"Type": "Succeed"}}},
     [("SCHEMA_VALIDATION_FAILED", "/States/A/Catch")]),
], ids=lambda v: None)
def test_problems_are_located_and_named(definition: Any, expected: list[tuple[str, str]]) -> None:
    assert problems(definition) == expected


def test_running_an_invalid_definition_raises_with_every_problem() -> None:
    with pytest.raises(DefinitionError) as exc:
        run_execution({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "X": 1}}}, {})
    assert len(exc.value.errors) == 3
    assert "at /States/A/Next" in str(exc.value)
