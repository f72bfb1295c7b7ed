"""The two query languages of the States Language: JSONPath (the default) and JSONata."""

from __future__ import annotations

from enum import Enum

from scones.workflow.asl.errors import StatesError


class QueryLanguage(str, Enum):
    JSONPATH = "JSONPath"
    JSONATA = "JSONata"

    @property
    def evaluation_error(self) -> StatesError:
        """The error of a field whose evaluated value does not fit: JSONata's own, or States.Runtime."""
        return StatesError.QUERY_EVALUATION_ERROR if self is QueryLanguage.JSONATA else StatesError.RUNTIME
