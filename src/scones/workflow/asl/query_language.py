"""Which query language a state machine or a state uses: the one place that decides it.

"The QueryLanguage of the state machine is the default for its states; a state
can override it ... a JSONata state machine cannot contain JSONPath states"
(developer guide, transforming data with JSONata). The builder, the validator
and the variable check all ask ``resolve_query_language``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, NamedTuple

from scones.workflow.asl.errors import StatesError


class QueryLanguage(str, Enum):
    JSONPATH = "JSONPath"
    JSONATA = "JSONata"

    @property
    def evaluation_error(self) -> StatesError:
        """The error of a field whose evaluated value does not fit: JSONata's own, or States.Runtime."""
        return StatesError.QUERY_EVALUATION_ERROR if self is QueryLanguage.JSONATA else StatesError.RUNTIME


class Scope(Enum):
    """Where a ``QueryLanguage`` field stands; the nesting rule and its message depend on it."""

    TOP = "top"
    MACHINE = "machine"  # a Parallel branch or a Map item processor
    STATE = "state"


class Resolution(NamedTuple):
    language: QueryLanguage
    #: What is wrong with the ``QueryLanguage`` field, if anything (the validator reports it).
    problem: str | None = None


def resolve_query_language(node: Mapping[str, Any], outer: QueryLanguage, scope: Scope) -> Resolution:
    """The language of ``node`` (a state machine or a state) inside a scope whose language is ``outer``.

    When the field is wrong, the language used to check the rest of ``node`` is ``outer``, except for a
    state that declares JSONPath inside JSONata: its fields are checked as the JSONPath it declares.
    """
    if "QueryLanguage" not in node:
        return Resolution(outer)
    declared = node["QueryLanguage"]
    if declared not in (QueryLanguage.JSONPATH.value, QueryLanguage.JSONATA.value):
        return Resolution(outer, f"The value of QueryLanguage must be \"JSONPath\" or \"JSONata\", not {declared!r}")
    language = QueryLanguage(declared)
    if outer is QueryLanguage.JSONATA and language is QueryLanguage.JSONPATH:
        if scope is Scope.MACHINE:
            return Resolution(outer, "A JSONPath QueryLanguage cannot be nested in a JSONata scope")
        if scope is Scope.STATE:
            return Resolution(language, "The QueryLanguage of a state cannot be JSONPath when the state "
                                        "machine's QueryLanguage is JSONata")
    return Resolution(language)
