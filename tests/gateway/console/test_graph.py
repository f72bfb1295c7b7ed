"""A definition as nodes and edges: Choice rules, Catch and Retry, Parallel branches and a Map's item processor."""

from __future__ import annotations

from scones.gateway.console.graph import END, START, EdgeKind, definition_graph, describe_rule
from scones.workflow.definitions import read_definition


def edges(graph: dict, kind: str) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["label"]) for e in graph["edges"] if e["kind"] == kind}


def test_the_scones_workflow_has_its_retries_and_its_catch() -> None:
    graph = definition_graph(read_definition("scones")).to_json()
    assert edges(graph, "catch") == {("FilterInferences", "LowConfidence", "catch ThresholdConfidenceNotMet")}
    assert {e[0] for e in edges(graph, "retry")} == {"SerializeImageData", "ClassifyImage", "FilterInferences"}
    assert (START, "SerializeImageData", "") in edges(graph, "next")
    assert ("FilterInferences", END, "") in edges(graph, "next")


def test_a_map_is_drawn_with_its_item_processor_in_a_box_and_a_join() -> None:
    graph = definition_graph(read_definition("scones-batch")).to_json()
    assert [c["id"] for c in graph["clusters"]] == ["ClassifyEach/__0__"]
    inner = {n["state"] for n in graph["nodes"] if n["parent"] == "ClassifyEach/__0__"}
    assert inner == {"SerializeImageData", "ClassifyImage", "FilterInferences", "Accepted", "LowConfidence",
                     "Errored"}  # the join is outside the box
    assert ("ClassifyEach", "ClassifyEach/SerializeImageData", "each item") in edges(graph, "iteration")
    assert ("ClassifyEach/__join__", "Collect", "") in edges(graph, "next")
    assert ("ClassifyEach/Accepted", "ClassifyEach/__join__", "") in edges(graph, "next")


def test_choices_parallel_branches_and_defaults() -> None:
    graph = definition_graph({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Default": "P", "Choices": [
            {"And": [{"Variable": "$.a", "NumericGreaterThan": 1}, {"Not": {"Variable": "$.b", "IsPresent": True}}],
             "Next": "Done"}]},
        "P": {"Type": "Parallel", "Next": "Done", "Branches": [
            {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
            {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}]},
        "Done": {"Type": "Succeed"}}}).to_json()
    assert edges(graph, EdgeKind.DEFAULT.value) == {("C", "P", "Default")}
    (choice,) = [e for e in graph["edges"] if e["kind"] == "choice"]
    assert choice["title"] == '($.a NumericGreaterThan 1) and (not ($.b IsPresent true))'
    assert edges(graph, "branch") == {("P", "P/0/X", "branch 1"), ("P", "P/1/X", "branch 2")}  # same name, 2 nodes
    assert ("P/__join__", "Done", "") in edges(graph, "next")


def test_a_jsonata_condition_is_its_own_label() -> None:
    assert describe_rule({"Condition": "{% $states.input.n > 2 %}", "Next": "x"}) == "{% $states.input.n > 2 %}"
