from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl.fields import (
    Field,
    IntrinsicField,
    JsonataField,
    Literal,
    PathField,
    PayloadField,
    compile_field,
    optional_field,
)
from scones.workflow.asl.query_language import QueryLanguage

PATH, ATA = QueryLanguage.JSONPATH, QueryLanguage.JSONATA


@pytest.mark.parametrize(("value", "language", "name", "kind"), [
    ("{% $states.input.n %}", ATA, "Seconds", JsonataField),
    ({"a": "{% 1 + 1 %}", "b": 2}, ATA, "Output", JsonataField),
    ({"a": 1}, ATA, "Output", Literal),
    ("$.n", ATA, "Output", Literal),  # a path means nothing in JSONata
    ("$.n", PATH, "SecondsPath", PathField),
    ("States.Format('{}', $.a)", PATH, "ErrorPath", IntrinsicField),
    ({"x.$": "$.a"}, PATH, "Parameters", PayloadField),
    ({"x": "$.a"}, PATH, "Parameters", Literal),
    ("{% 5 %}", PATH, "TimeoutSeconds", Literal),  # an expression means nothing in JSONPath
    (10, PATH, "TimeoutSeconds", Literal),
], ids=lambda v: None)
def test_a_field_is_compiled_for_its_query_language(value: Any, language: QueryLanguage, name: str,
                                                    kind: type[Field]) -> None:
    field = compile_field(value, language, name)
    assert type(field) is kind
    assert (field.name, field.source) == (name, value)
    assert field.dynamic is (kind is not Literal)


def test_a_whole_expression_is_available_for_messages() -> None:
    field = compile_field("{% $states.input.items %}", ATA, "Items")
    assert isinstance(field, JsonataField) and field.expression is not None
    assert field.expression.text == "$states.input.items"
    nested = compile_field(["{% 1 %}"], ATA, "Items")
    assert isinstance(nested, JsonataField) and nested.expression is None


def test_optional_field_takes_the_first_name_present() -> None:
    props = {"SecondsPath": "$.s", "Comment": "x"}
    field = optional_field(props, PATH, "Seconds", "SecondsPath")
    assert isinstance(field, PathField) and field.name == "SecondsPath"
    assert optional_field(props, PATH, "Timestamp", "TimestampPath") is None
