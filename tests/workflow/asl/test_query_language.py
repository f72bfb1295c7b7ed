from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl.query_language import QueryLanguage, Scope, resolve_query_language

PATH, ATA = QueryLanguage.JSONPATH, QueryLanguage.JSONATA


@pytest.mark.parametrize(("node", "outer", "scope", "language", "problem"), [
    ({}, PATH, Scope.TOP, PATH, None),
    ({"QueryLanguage": "JSONata"}, PATH, Scope.TOP, ATA, None),
    ({}, ATA, Scope.STATE, ATA, None),
    ({"QueryLanguage": "JSONata"}, PATH, Scope.STATE, ATA, None),
    ({"QueryLanguage": "XPath"}, ATA, Scope.STATE, ATA, "must be \"JSONPath\" or \"JSONata\", not 'XPath'"),
    ({"QueryLanguage": "JSONPath"}, ATA, Scope.MACHINE, ATA, "cannot be nested in a JSONata scope"),
    # A state keeps the JSONPath it declares, so its fields are checked as JSONPath.
    ({"QueryLanguage": "JSONPath"}, ATA, Scope.STATE, PATH, "cannot be JSONPath when the state machine's"),
], ids=lambda v: None)
def test_the_language_of_a_node_and_what_is_wrong_with_it(node: dict[str, Any], outer: QueryLanguage,
                                                          scope: Scope, language: QueryLanguage,
                                                          problem: str | None) -> None:
    resolved = resolve_query_language(node, outer, scope)
    assert resolved.language is language
    if problem is None:
        assert resolved.problem is None
    else:
        assert resolved.problem is not None and problem in resolved.problem
