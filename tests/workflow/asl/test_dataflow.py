"""Input and output processing, with the developer guide's examples."""

from __future__ import annotations

from typing import Any

from .helpers import one_state, run

GUIDE_INPUT = {"comment": "Example for InputPath.", "dataset1": {"val1": 1, "val2": 2, "val3": 3},
               "dataset2": {"val1": "a", "val2": "b", "val3": "c"}}


def test_input_path_selects_part_of_the_input() -> None:
    execution = run(one_state({"Type": "Pass", "InputPath": "$.dataset2"}), GUIDE_INPUT)
    assert execution.output == {"val1": "a", "val2": "b", "val3": "c"}


def test_parameters_with_paths_context_and_static_values() -> None:
    state = {"Type": "Pass", "Parameters": {"comment": "Selecting what I care about.",
                                            "MyDetails": {"size.$": "$.product.details.size",
                                                          "exists.$": "$.product.availability",
                                                          "StaticValue": "foo"},
                                            "name.$": "$$.State.Name"}}
    data = {"comment": "Example for Parameters.",
            "product": {"details": {"color": "blue", "size": "small", "material": "cotton"},
                        "availability": "in stock", "sku": "2317", "cost": "$23"}}
    assert run(one_state(state), data).output == {
        "comment": "Selecting what I care about.",
        "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
        "name": "S"}


def test_result_selector_then_result_path_merge() -> None:
    # The guide's EMR example, shortened: ResultSelector picks, ResultPath places it into the input.
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "cluster", "Payload.$": "$"},
        "ResultSelector": {"ClusterId.$": "$.Payload.ClusterId", "ResourceType.$": "$.Payload.Type"},
        "ResultPath": "$.EMROutput", "End": True}}}
    execution = run(definition, {"cluster": "on"},
                    functions={"cluster": lambda e, c: {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "Type": "EMR"}})
    assert execution.output == {"cluster": "on",
                                "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "EMR"}}


def test_result_path_variants() -> None:
    data = {"comment": "This is a test of the input and output of a Task state.", "details": "Default example",
            "who": "AWS Step Functions"}
    hello = "Hello, AWS Step Functions!"

    def out(result_path: Any) -> Any:
        state: dict[str, Any] = {"Type": "Pass", "Result": hello}
        if result_path is not ...:
            state["ResultPath"] = result_path
        return run(one_state(state), data).output

    assert out(...) == hello
    assert out("$") == hello
    assert out(None) == data
    assert out("$.taskresult") == {**data, "taskresult": hello}
    assert out("$.a.b") == {**data, "a": {"b": hello}}


def test_output_path_after_result_path() -> None:
    state = {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "OutputPath": "$.r.x"}
    assert run(one_state(state), {"in": True}).output == 1


def test_null_input_and_output_paths_give_empty_objects() -> None:
    assert run(one_state({"Type": "Pass", "InputPath": None}), {"a": 1}).output == {}
    assert run(one_state({"Type": "Pass", "OutputPath": None}), {"a": 1}).output == {}


def test_missing_input_path_is_a_runtime_error_with_awss_message() -> None:
    execution = run(one_state({"Type": "Pass", "InputPath": "$.nope"}), {"a": 1})
    assert execution.error == "States.Runtime"
    assert execution.cause == ("An error occurred while executing the state 'S' (entered at the event id #2). "
                               "Invalid path '$.nope' : No results for path: $['nope']")


def test_missing_parameter_path_names_the_field_and_input() -> None:
    execution = run(one_state({"Type": "Pass", "Parameters": {"v.$": "$.missing"}}), {"a": 1})
    assert execution.error == "States.Runtime"
    assert execution.cause.endswith("The JSONPath '$.missing' specified for the field 'v.$' could not be found in "
                                    "the input '{\"a\":1}'")


def test_result_path_into_non_object_is_result_path_match_failure() -> None:
    execution = run(one_state({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b"}), {"a": "text"})
    assert execution.error == "States.ResultPathMatchFailure"


def test_state_output_over_256_kib_is_data_limit_exceeded() -> None:
    execution = run(one_state({"Type": "Pass", "Parameters": {"big.$": "$.s"}}), {"s": "x" * 200_000, "t": 1})
    assert execution.status.value == "SUCCEEDED"
    execution = run(one_state({"Type": "Pass", "Result": "y" * 270_000}), {})
    assert execution.error == "States.DataLimitExceeded"


def test_the_input_is_never_mutated() -> None:
    data = {"a": {"b": 1}}
    run(one_state({"Type": "Pass", "Result": 2, "ResultPath": "$.a.c"}), data)
    assert data == {"a": {"b": 1}}
