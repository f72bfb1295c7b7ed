from __future__ import annotations

import pytest

from scones.workflow.asl.paths import JsonPath, PathNotFound, PathSyntaxError, set_at

STORE = {"store": {"book": [
    {"category": "reference", "author": "Nigel Rees", "price": 8.95},
    {"category": "fiction", "author": "Evelyn Waugh", "price": 12.99},
    {"category": "fiction", "author": "Herman Melville", "isbn": "0-553-21311-3", "price": 8.99},
], "bicycle": {"color": "red", "price": 19.95}}}


@pytest.mark.parametrize(("path", "expected"), [
    ("$.store.bicycle.color", "red"),
    ("$.store.book[0].author", "Nigel Rees"),
    ("$.store.book[-1].price", 8.99),
    ("$['store']['bicycle']['price']", 19.95),
    ("$.store.book[*].author", ["Nigel Rees", "Evelyn Waugh", "Herman Melville"]),
    ("$.store.book[1:].price", [12.99, 8.99]),
    ("$.store.book[0,2].price", [8.95, 8.99]),
    ("$..isbn", ["0-553-21311-3"]),
    ("$.store.book[?(@.price < 10)].author", ["Nigel Rees", "Herman Melville"]),
    ("$.store.book[?(@.isbn)].author", ["Herman Melville"]),
    ("$.store.book[?(@.category == 'fiction' && @.price > 10)].price", [12.99]),
    ("$.store.book.length()", 3),
], ids=lambda v: str(v))
def test_jayway_examples_select_what_aws_selects(path: str, expected: object) -> None:
    assert JsonPath(path).select(STORE) == expected


def test_definite_path_to_missing_node_fails_with_normalized_path() -> None:
    with pytest.raises(PathNotFound) as exc:
        JsonPath("$.store.missing").select(STORE)
    assert exc.value.normalized == "$['store']['missing']"


def test_indefinite_path_without_matches_is_empty() -> None:
    assert JsonPath("$.store.book[?(@.price > 100)]").select(STORE) == []


@pytest.mark.parametrize("text", ["$.a", "$.a[0].b", "$['x y']", "$"])
def test_reference_paths(text: str) -> None:
    assert JsonPath(text).is_reference


@pytest.mark.parametrize("text", ["$.a[*]", "$..a", "$.a[1:2]", "$.a[?(@.x)]", "$.a[0,1]"])
def test_not_reference_paths(text: str) -> None:
    assert not JsonPath(text).is_reference


@pytest.mark.parametrize("text", ["a.b", "$.", "$[", "$.a[", "$.a['x"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        JsonPath(text)


def test_roots_context_and_variables() -> None:
    assert JsonPath("$$.Execution.Id").root.value == "$$"
    var = JsonPath("$answer.value")
    assert var.variable == "answer" and var.keys == ("value",)


def test_set_at_copies_along_the_path_and_creates_objects() -> None:
    doc = {"a": {"b": 1}, "keep": [1]}
    out = set_at(doc, JsonPath("$.a.c.d"), 5)
    assert out == {"a": {"b": 1, "c": {"d": 5}}, "keep": [1]}
    assert doc == {"a": {"b": 1}, "keep": [1]}
    assert out["keep"] is doc["keep"]


def test_set_at_into_a_non_object_fails() -> None:
    with pytest.raises(PathNotFound):
        set_at({"a": 1}, JsonPath("$.a.b"), 2)
