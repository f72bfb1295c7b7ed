"""Static checks, as AWS's ValidateStateMachineDefinition does them; every problem is reported.

Each problem has AWS's diagnostic code (``SCHEMA_VALIDATION_FAILED``,
``MISSING_TRANSITION_TARGET`` ...), a message and the JSON pointer of the field.
The shared checks are in ``checks``; each state class checks its own fields.
"""

from __future__ import annotations

from typing import Any

from scones.workflow.asl.checks import Checker
from scones.workflow.asl.errors import ValidationError
from scones.workflow.asl.integrations import default_resolver
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.resources import ResourceResolver
from scones.workflow.asl.states.registry import STATE_TYPES
from scones.workflow.asl.variable_check import check_variables


def validate_document(definition: Any, resolver: ResourceResolver | None = None) -> list[ValidationError]:
    """All problems of a parsed definition (an empty list means AWS would accept it)."""
    checker = Checker(resolver or default_resolver(), STATE_TYPES)
    checker.machine(definition, (), QueryLanguage.JSONPATH, top=True)
    if not checker.errors:
        checker.errors.extend(check_variables(definition))
    return checker.errors
