"""The last differences from what AWS recorded: Wait's SecondsPath/TimestampPath causes, the numbers a Map reads
through a path, variables in a Map's ItemsPath/MaxConcurrencyPath/intrinsic arguments, bracket paths with escaped
quotes, and ``{% %}`` strings in a JSONPath state's number fields. Where each answer comes from:
docs/aws-facts.md (Wait, Map, Validation)."""

from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl import validate_definition

from .helpers import one_state, run

PREFIX = "An error occurred while executing the state 'S' (entered at the event id #2). "


def wait_path(path: str = "$.input.waitSeconds") -> dict[str, Any]:
    return one_state({"Type": "Wait", "SecondsPath": path})


@pytest.mark.parametrize(("value", "cause"), [
    (-1, "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"),
    (-1.5, "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == -1.5"),
    (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5"),
    ("10", "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 10"),
    (None, "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == null"),
], ids=["negative", "negative-fraction", "fraction", "string", "null"])
def test_seconds_path_values_that_are_not_whole_non_negative_numbers(value: Any, cause: str) -> None:
    execution = run(wait_path(), {"input": {"waitSeconds": value}})
    assert (execution.status.value, execution.error, execution.cause) == ("FAILED", "States.Runtime", PREFIX + cause)


@pytest.mark.parametrize("value", [0, 1])
def test_seconds_path_whole_numbers_wait(value: int) -> None:
    assert run(wait_path(), {"input": {"waitSeconds": value}}).status.value == "SUCCEEDED"


def test_a_missing_seconds_path_or_timestamp_path_value() -> None:
    execution = run(wait_path(), {"input": {}})
    assert execution.cause == PREFIX + "The SecondsPath parameter does not reference an input value: " \
                                       "$.input.waitSeconds"
    execution = run(one_state({"Type": "Wait", "TimestampPath": "$.when"}), {})
    assert execution.cause == PREFIX + "The TimestampPath parameter does not reference an input value: $.when"


@pytest.mark.parametrize(("value", "shown"), [("2016-12-05 21:29:29Z", "2016-12-05 21:29:29Z"), (5, "5"),
                                              ({"at": 1}, '{"at":1}')], ids=["no-T", "number", "object"])
def test_timestamp_path_values_that_are_not_timestamps(value: Any, shown: str) -> None:
    execution = run(one_state({"Type": "Wait", "TimestampPath": "$.when"}), {"when": value})
    assert execution.cause == PREFIX + "The TimestampPath parameter does not reference a valid ISO-8601 extended " \
                                       f"offset date-time format string: $.when == {shown}"


def inline_map(**fields: Any) -> dict[str, Any]:
    return one_state({"Type": "Map", "ItemsPath": "$.items", **fields,
                      "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})


@pytest.mark.parametrize(("value", "cause"), [
    ("x", 'The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.max'),
    ({}, 'The MaxConcurrencyPath field refers to value "{}" which is not a valid integer: $.max'),
    (1.5, 'The MaxConcurrencyPath field refers to value "1.5" which is not a valid integer: $.max'),
    (-1, "Expected non-negative integer for MaxConcurrency, got '-1' instead."),
], ids=["text", "object", "fraction", "negative"])
def test_max_concurrency_path_values_that_are_refused(value: Any, cause: str) -> None:
    execution = run(inline_map(MaxConcurrencyPath="$.max"), {"items": [1], "max": value})
    assert (execution.error, execution.cause) == ("States.Runtime", PREFIX + cause)


@pytest.mark.parametrize("value", [0, 2, "1", 2.0])
def test_max_concurrency_path_takes_integers_and_their_text(value: Any) -> None:
    execution = run(inline_map(MaxConcurrencyPath="$.max"), {"items": [1, 2], "max": value})
    assert (execution.status.value, execution.output) == ("SUCCEEDED", [1, 2])


@pytest.mark.parametrize(("name", "value", "cause"), [
    ("ToleratedFailureCountPath", {}, 'The ToleratedFailureCountPath field refers to value "{}" which is not a valid '
                                      "integer: $.t"),
    ("ToleratedFailureCountPath", -1, "ToleratedFailureCount cannot be negative."),
    ("ToleratedFailurePercentagePath", "x", 'The ToleratedFailurePercentagePath field refers to value "x" which is '
                                            "not a valid float: $.t"),
    ("ToleratedFailurePercentagePath", 101, "ToleratedFailurePercentage must be between 0 and 100."),
], ids=["count-object", "count-negative", "percentage-text", "percentage-over-100"])
def test_tolerated_failure_path_values_that_are_refused(name: str, value: Any, cause: str) -> None:
    from scones.workflow.asl.map_numbers import path_number

    class Frame:  # only what the cause needs
        def error_prefix(self) -> str:
            return PREFIX.rstrip()

    with pytest.raises(Exception) as exc:
        path_number(Frame(), name, "$.t", value)  # type: ignore[arg-type]
    assert exc.value.failure.cause == PREFIX + cause  # type: ignore[attr-defined]


def test_tolerated_failure_paths_take_integer_text() -> None:
    from scones.workflow.asl.map_numbers import path_number

    assert path_number(None, "ToleratedFailureCountPath", "$t", "1") == 1  # type: ignore[arg-type]
    assert path_number(None, "ToleratedFailurePercentagePath", "$t", "1") == 1.0  # type: ignore[arg-type]
    assert path_number(None, "ToleratedFailurePercentagePath", "$t", 12.5) == 12.5  # type: ignore[arg-type]


POKEMON = ["Charizard", "Pikachu", "Squirtle"]
ANSWERS = [{"Question": "Who's that Pokemon?", "Answer": f"It's {name}!"} for name in POKEMON]
PROCESSOR = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Pass", "States": {"Pass": {
    "Type": "Pass", "Parameters": {"Question.$": "$Question", "Answer.$": "$.AnnouncePokemon"}, "End": True}}}


def test_a_variable_as_the_template_of_states_format_in_an_item_selector() -> None:
    """MAP_STATE_REFERENCE_IN_INTRINSIC_FUNCTION, recorded on AWS by LocalStack."""
    definition = {"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Assign": {"AnswerTemplate": "It's {}!", "Question": "Who's that Pokemon?"},
                  "Result": POKEMON, "Next": "MapIterateState"},
        "MapIterateState": {"Type": "Map", "MaxConcurrency": 1, "ItemProcessor": PROCESSOR, "End": True,
                            "ItemSelector": {"AnnouncePokemon.$":
                                             "States.Format($AnswerTemplate, $$.Map.Item.Value)"}}}}
    assert run(definition, {}).output == ANSWERS


def test_a_variable_as_items_path() -> None:
    """MAP_STATE_REFERENCE_IN_ITEMS_PATH (a path, not a literal, as the Format template too)."""
    definition = {"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Assign": {"Question": "Who's that Pokemon?", "PokemonList": POKEMON},
                  "Result": {"AnswerTemplate": "It's {}!"}, "Next": "MapIterateState"},
        "MapIterateState": {"Type": "Map", "MaxConcurrency": 1, "ItemsPath": "$PokemonList",
                            "ItemProcessor": PROCESSOR, "End": True, "ItemSelector": {
                                "AnnouncePokemon.$": "States.Format($.AnswerTemplate, $$.Map.Item.Value)"}}}}
    assert run(definition, {}).output == ANSWERS


def test_a_variable_holding_text_as_max_concurrency_path() -> None:
    """MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH: "maxConcurrency": "1" runs."""
    definition = {"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Assign": {"maxConcurrency": "1"}, "Result": {"Values": [1, 2, 3]},
                  "Next": "MapState"},
        "MapState": {"Type": "Map", "ItemsPath": "$.Values", "MaxConcurrencyPath": "$maxConcurrency", "End": True,
                     "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "HandleItem",
                                       "States": {"HandleItem": {"Type": "Pass", "End": True}}}}}}
    assert run(definition, {}).output == [1, 2, 3]


def test_a_format_template_that_is_not_a_string_fails() -> None:
    execution = run(one_state({"Type": "Pass", "Parameters": {"x.$": "States.Format($.t, 1)"}}), {"t": 5})
    assert execution.error == "States.IntrinsicFailure" and "the first argument must be a string, got 5" in \
        (execution.cause or "")


QUOTED = {"a'b": 1, 'c"d': 2}


@pytest.mark.parametrize(("expression", "value"), [
    ("$['a\\'b']", 1), ('$["c\\"d"]', 2), ("States.Format('v={}', $['a\\'b'])", "v=1"),
    ('States.Array($["c\\"d"], $[\'a\\\'b\'])', [2, 1]),
], ids=["single", "double", "in-format", "in-array"])
def test_bracket_names_with_escaped_quotes(expression: str, value: Any) -> None:
    definition = one_state({"Type": "Pass", "Parameters": {"x.$": expression}})
    assert validate_definition(definition) == []
    assert run(definition, QUOTED).output == {"x": value}


def test_a_missing_bracket_name_is_shown_unescaped_as_jayway_shows_it() -> None:
    execution = run(one_state({"Type": "Pass", "InputPath": "$['a\\'c']"}), QUOTED)
    assert execution.cause == PREFIX + "Invalid path '$['a\\'c']' : No results for path: $['a'c']"


@pytest.mark.parametrize(("state", "field", "message"), [
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
      "TimeoutSeconds": "{% 5 %}"}, "TimeoutSeconds", "Expected value of type Integer"),
    ({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
      "HeartbeatSeconds": "{% 5 %}"}, "HeartbeatSeconds", "Expected value of type Integer"),
    ({"Type": "Wait", "Seconds": "{% 5 %}"}, "Seconds", "Expected value of type Integer"),
    ({"Type": "Wait", "Timestamp": "{% $now() %}"}, "Timestamp", "String does not match RFC3339 timestamp"),
    ({"Type": "Map", "MaxConcurrency": "{% 1 %}",
      "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}},
     "MaxConcurrency", "Expected value of type Integer"),
], ids=["TimeoutSeconds", "HeartbeatSeconds", "Seconds", "Timestamp", "MaxConcurrency"])
def test_a_jsonata_expression_in_a_jsonpath_states_number_field_is_refused(state: dict[str, Any], field: str,
                                                                          message: str) -> None:
    (problem,) = validate_definition(one_state(state))
    assert (problem.code, problem.message, problem.location) == ("SCHEMA_VALIDATION_FAILED", message,
                                                                 f"/States/S/{field}")
    jsonata = dict(state)
    if "Parameters" in jsonata:
        jsonata["Arguments"] = jsonata.pop("Parameters")
    assert validate_definition({"QueryLanguage": "JSONata", **one_state(jsonata)}) == []


@pytest.mark.parametrize("timestamp", ["2016-12-05T21:29:29", "2016-13-05T21:29:29Z", "05-12-2016T21:29:29Z"])
def test_invalid_timestamps_are_refused_with_aws_words(timestamp: str) -> None:
    (problem,) = validate_definition(one_state({"Type": "Wait", "Timestamp": timestamp}))
    assert problem.message == "String does not match RFC3339 timestamp"
