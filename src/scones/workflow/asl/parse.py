"""From definition text to a runnable ``StateMachine``: parse JSON, validate, build one object per state."""

from __future__ import annotations

from typing import Any

from scones.workflow.asl.errors import DefinitionError, ValidationError
from scones.workflow.asl.integrations import default_resolver
from scones.workflow.asl.jsontext import JsonTextError, parse_json
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage, Scope, resolve_query_language
from scones.workflow.asl.resources import ResourceResolver, TaskResource
from scones.workflow.asl.states.base import State
from scones.workflow.asl.states.registry import STATE_TYPES
from scones.workflow.asl.validate import validate_document


def load_definition(definition: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """The definition as a dict; JSON text is parsed (a syntax error is a ``DefinitionError``)."""
    if isinstance(definition, dict):
        return definition
    try:
        doc = parse_json(definition)
    except JsonTextError as exc:
        raise DefinitionError([ValidationError("INVALID_JSON_DESCRIPTION", f"Invalid JSON: {exc}", "")]) from exc
    if not isinstance(doc, dict):
        raise DefinitionError([ValidationError("SCHEMA_VALIDATION_FAILED",
                                               "A state machine definition must be a JSON object", "")])
    return doc


class Builder:
    """Builds the states of a validated definition; each state's class builds itself (``State.build``)."""

    def __init__(self, resolver: ResourceResolver) -> None:
        self.resolver = resolver

    def machine(self, node: dict[str, Any], language: QueryLanguage, top: bool = False) -> StateMachine:
        language = resolve_query_language(node, language, Scope.TOP if top else Scope.MACHINE).language
        states = {name: self.state(name, props, language) for name, props in node["States"].items()}
        timeout = node.get("TimeoutSeconds") if top else None
        return StateMachine(node["StartAt"], states, language, timeout)

    def state(self, name: str, props: dict[str, Any], outer: QueryLanguage) -> State:
        language = resolve_query_language(props, outer, Scope.STATE).language
        return STATE_TYPES[props["Type"]].build(name, props, language, self)

    def resource(self, arn: str) -> TaskResource:
        resource = self.resolver.resolve(arn)
        assert resource is not None  # checked by the validator
        return resource


def build_state_machine(definition: dict[str, Any] | str | bytes,
                        resolver: ResourceResolver | None = None) -> StateMachine:
    """Validate and build; raises ``DefinitionError`` listing every problem."""
    resolver = resolver or default_resolver()
    doc = load_definition(definition)
    errors = validate_document(doc, resolver)
    if errors:
        raise DefinitionError(errors)
    return Builder(resolver).machine(doc, QueryLanguage.JSONPATH, top=True)
