"""Intrinsic functions, with the developer guide's examples ("Intrinsic functions for JSONPath")."""

from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl import StatesError

from .helpers import one_state, run


def evaluate(expression: str, data: Any = None) -> Any:
    execution = run(one_state({"Type": "Pass", "Parameters": {"r.$": expression}}), data if data is not None else {})
    assert execution.status.value == "SUCCEEDED", execution.result()
    return execution.output["r"]


@pytest.mark.parametrize(("expression", "data", "expected"), [
    ("States.Format('Hello, my name is {}.', $.name)", {"name": "Arnav"}, "Hello, my name is Arnav."),
    ("States.Format('Text with \\{braces\\} and {}', $.v)", {"v": 1}, "Text with {braces} and 1"),
    ("States.StringToJson($.someString)", {"someString": "{\"number\": 20}"}, {"number": 20}),
    ("States.JsonToString($.someJson)", {"someJson": {"name": "Foo", "year": 2020}},
     "{\"name\":\"Foo\",\"year\":2020}"),
    ("States.Array('Foo', 2020, $.someJson, null)", {"someJson": {"random": "abcdefg"}},
     ["Foo", 2020, {"random": "abcdefg"}, None]),
    ("States.ArrayPartition($.inputArray, 4)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
     [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    ("States.ArrayContains($.inputArray, $.lookingFor)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
     True),
    ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    ("States.ArrayGetItem($.inputArray, $.index)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}, 6),
    ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    ("States.Hash($.Data, $.Algorithm)", {"Data": "input data", "Algorithm": "SHA-1"},
     "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("States.JsonMerge($.json1, $.json2, false)",
     {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
     {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}),
    ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    ("States.StringSplit($.inputString, $.splitter)", {"inputString": "1,2,3,4,5", "splitter": ","},
     ["1", "2", "3", "4", "5"]),
    ("States.StringSplit($.inputString, $.splitter)", {"inputString": "This.is+a,test=string", "splitter": ".+,="},
     ["This", "is", "a", "test", "string"]),
    ("States.ArrayLength(States.Array(1, 2, States.Array(3)))", {}, 3),
], ids=lambda v: v if isinstance(v, str) else None)
def test_developer_guide_examples(expression: str, data: Any, expected: Any) -> None:
    assert evaluate(expression, data) == expected


def test_math_random_is_in_range_and_seeded_is_repeatable() -> None:
    assert 1 <= evaluate("States.MathRandom(1, 999)") < 999
    assert evaluate("States.MathRandom(1, 999, 1234)") == evaluate("States.MathRandom(1, 999, 1234)")


def test_uuid_is_a_v4_uuid() -> None:
    import uuid

    assert uuid.UUID(evaluate("States.UUID()")).version == 4


@pytest.mark.parametrize("expression", [
    "States.ArrayGetItem($.a, 5)",
    "States.ArrayPartition($.a, 0)",
    "States.ArrayRange(0, 2000, 1)",
    "States.JsonMerge($.o, $.o, true)",
    "States.Format('{} {}', 1)",
    "States.Hash('x', 'SHA-3')",
    "States.StringToJson('{not json')",
    "States.StringToJson('NaN')",
    "States.StringToJson('[1e400]')",
    "States.StringToJson($.deep)",
])
def test_bad_arguments_fail_with_intrinsic_failure(expression: str) -> None:
    execution = run(one_state({"Type": "Pass", "Parameters": {"r.$": expression}}),
                    {"a": [1], "o": {}, "deep": "[" * 3000 + "]" * 3000})
    assert execution.status.value == "FAILED"
    assert execution.error == StatesError.INTRINSIC_FAILURE.value
    assert "An error occurred while executing the state 'S'" in (execution.cause or "")


@pytest.mark.parametrize("expression", [
    "States.Nope(1)", "States.Format('x'", "States.Array(1,,2)", "States.UUID(1)", "States.Format('\\')",
])
def test_bad_syntax_is_rejected_at_validation(expression: str) -> None:
    from scones.workflow.asl import validate_definition

    errors = validate_definition(one_state({"Type": "Pass", "Parameters": {"r.$": expression}}))
    assert [e.code for e in errors] == ["INVALID_INTRINSIC_FUNCTION"]
    assert errors[0].location == "/States/S/Parameters/r.$"
