"""Static checks of workflow variables: references must name a variable assigned in a visible scope.

"Variables ... are scoped: a Map iteration or Parallel branch can read the
variables of the outer scopes but cannot reassign them" (developer guide,
variable scope). A JSONPath reference (``$name`` in a path or an intrinsic
argument) to a name no visible scope assigns is reported, as is an inner
``Assign`` of a name an outer scope owns. JSONata expressions can bind local
names with ``:=``, so they are checked at run time instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from scones.workflow.asl.errors import ValidationError
from scones.workflow.asl.query_language import QueryLanguage, Scope, resolve_query_language

CODE: Final = "SCHEMA_VALIDATION_FAILED"
_REFERENCE: Final = re.compile(r"(?<![$\w])\$([A-Za-z_][A-Za-z0-9_]*)")
#: JSONPath fields whose (string) value is a path.
_PATH_FIELDS: Final = ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath",
                       "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
                       "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "Variable")
_TEMPLATES: Final = ("Parameters", "ResultSelector", "ItemSelector", "Assign")


def _ptr(parts: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _assigned_names(assign: Any) -> set[str]:
    if not isinstance(assign, dict):
        return set()
    return {k[:-2] if k.endswith(".$") else k for k in assign}


def _state_assigns(state: dict[str, Any]) -> set[str]:
    names = _assigned_names(state.get("Assign"))
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict):
            names |= _assigned_names(rule.get("Assign"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict):
            names |= _assigned_names(catcher.get("Assign"))
    return names


def _references_in_text(text: str) -> Iterator[str]:
    if text.startswith("$$"):
        return
    for m in _REFERENCE.finditer(text):
        if m.start() > 0 and text[m.start() - 1] == "$":
            continue
        yield m.group(1)


def _template_refs(value: Any, where: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            if isinstance(key, str) and key.endswith(".$") and isinstance(sub, str):
                for name in _references_in_text(_strip_literals(sub)):
                    yield name, (*where, key)
            else:
                yield from _template_refs(sub, (*where, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _template_refs(sub, (*where, i))


def _strip_literals(text: str) -> str:
    """Remove quoted literals from an intrinsic call so '$x' inside a string is not a reference."""
    return re.sub(r"'(?:\\.|[^'\\])*'", "''", text)


def _rule_refs(rule: Any, where: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    if not isinstance(rule, dict):
        return
    for key, value in rule.items():
        if key in ("And", "Or") and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _rule_refs(sub, (*where, key, i))
        elif key == "Not":
            yield from _rule_refs(value, (*where, key))
        elif (key == "Variable" or key.endswith("Path")) and isinstance(value, str):
            for name in _references_in_text(value):
                yield name, (*where, key)
        elif key == "Assign":
            yield from _template_refs(value, (*where, key))


def _state_refs(state: dict[str, Any], where: tuple[str | int, ...]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    for key in _PATH_FIELDS:
        value = state.get(key)
        if isinstance(value, str):
            text = value if value.startswith("$") else _strip_literals(value)
            for name in _references_in_text(text):
                yield name, (*where, key)
    for key in _TEMPLATES:
        if key in state:
            yield from _template_refs(state[key], (*where, key))
    for i, rule in enumerate(state.get("Choices") or []):
        yield from _rule_refs(rule, (*where, "Choices", i))
    for i, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and "Assign" in catcher:
            yield from _template_refs(catcher["Assign"], (*where, "Catch", i, "Assign"))


def check_variables(definition: dict[str, Any]) -> list[ValidationError]:
    errors: list[ValidationError] = []

    def machine(node: Any, where: tuple[str | int, ...], outer: frozenset[str], language: QueryLanguage,
                scope: Scope) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("States"), dict):
            return
        language = resolve_query_language(node, language, scope).language
        states: dict[str, Any] = node["States"]
        own: set[str] = set()
        for state in states.values():
            if isinstance(state, dict):
                own |= _state_assigns(state)
        visible = outer | own
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            sw = (*where, "States", name)
            if outer:
                for var in sorted(_state_assigns(state) & outer):
                    errors.append(ValidationError(
                        CODE, f"The variable '{var}' belongs to an outer scope and cannot be assigned inside a "
                              f"Map or Parallel state", _ptr((*sw, "Assign"))))
            inner_language = resolve_query_language(state, language, Scope.STATE).language
            if inner_language is QueryLanguage.JSONPATH:
                for var, at in _state_refs(state, sw):
                    if var not in visible:
                        errors.append(ValidationError(
                            CODE, f"The variable '{var}' is referenced but never assigned in this scope or an "
                                  f"outer one", _ptr(at)))
            for i, branch in enumerate(state.get("Branches") or [] if isinstance(state.get("Branches"), list) else []):
                machine(branch, (*sw, "Branches", i), frozenset(visible), inner_language, Scope.MACHINE)
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    machine(state[key], (*sw, key), frozenset(visible), inner_language, Scope.MACHINE)

    machine(definition, (), frozenset(), QueryLanguage.JSONPATH, Scope.TOP)
    return errors
