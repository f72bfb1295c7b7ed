"""Static checks, as AWS's ValidateStateMachineDefinition does them; every problem is reported.

Each problem has AWS's diagnostic code (``SCHEMA_VALIDATION_FAILED``,
``MISSING_TRANSITION_TARGET`` ...), a message and the JSON pointer of the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from scones.workflow.asl.errors import ValidationError
from scones.workflow.asl.intrinsics import IntrinsicSyntaxError, parse_intrinsic
from scones.workflow.asl.jsonata_eval import JsonataSyntaxError, check_syntax, is_expression, strip_delimiters
from scones.workflow.asl.jsontext import json_type_name
from scones.workflow.asl.paths import JsonPath, PathSyntaxError
from scones.workflow.asl.query_language import QueryLanguage, Scope, resolve_query_language
from scones.workflow.asl.resources import ResourceResolver, default_resolver
from scones.workflow.asl.validate_states import StateChecks
from scones.workflow.asl.variable_check import check_variables

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
TARGET: Final = "MISSING_TRANSITION_TARGET"
UNREACHABLE: Final = "UNREACHABLE_STATE"
NO_TERMINAL: Final = "MISSING_TERMINAL_STATE"
BAD_PATH: Final = "INVALID_JSON_PATH"
BAD_INTRINSIC: Final = "INVALID_INTRINSIC_FUNCTION"
BAD_JSONATA: Final = "INVALID_JSONATA"

STATE_TYPES: Final = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
TOP_FIELDS: Final = frozenset({"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"})
MACHINE_FIELDS: Final = frozenset({"Comment", "StartAt", "States", "ProcessorConfig", "QueryLanguage"})
COMMON: Final = frozenset({"Type", "Comment", "QueryLanguage"})
JSONPATH_IO: Final = frozenset({"InputPath", "OutputPath"})
FLOW: Final = frozenset({"Next", "End"})
ERRORS: Final = frozenset({"Retry", "Catch"})

JSONPATH_FIELDS: Final[dict[str, frozenset[str]]] = {
    "Pass": COMMON | JSONPATH_IO | FLOW | {"ResultPath", "Parameters", "Result", "Assign"},
    "Task": COMMON | JSONPATH_IO | FLOW | ERRORS | {"Resource", "ResultPath", "Parameters", "ResultSelector",
                                                     "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
                                                     "HeartbeatSecondsPath", "Credentials", "Assign"},
    "Choice": COMMON | JSONPATH_IO | {"Choices", "Default", "Assign"},
    "Wait": COMMON | JSONPATH_IO | FLOW | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
    "Succeed": COMMON | JSONPATH_IO,
    "Fail": COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": COMMON | JSONPATH_IO | FLOW | ERRORS | {"Branches", "ResultPath", "Parameters", "ResultSelector",
                                                         "Assign"},
    "Map": COMMON | JSONPATH_IO | FLOW | ERRORS | {
        "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "ItemReader", "ItemBatcher",
        "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount",
        "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label",
        "ResultPath", "ResultSelector", "Assign"},
}
JSONATA_FIELDS: Final[dict[str, frozenset[str]]] = {
    "Pass": COMMON | FLOW | {"Output", "Assign"},
    "Task": COMMON | FLOW | ERRORS | {"Resource", "Arguments", "Output", "TimeoutSeconds", "HeartbeatSeconds",
                                       "Credentials", "Assign"},
    "Choice": COMMON | {"Choices", "Default", "Output", "Assign"},
    "Wait": COMMON | FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    "Succeed": COMMON | {"Output"},
    "Fail": COMMON | {"Error", "Cause"},
    "Parallel": COMMON | FLOW | ERRORS | {"Branches", "Arguments", "Output", "Assign"},
    "Map": COMMON | FLOW | ERRORS | {"ItemProcessor", "Iterator", "Items", "ItemSelector", "ItemReader",
                                      "ItemBatcher", "ResultWriter", "MaxConcurrency", "ToleratedFailureCount",
                                      "ToleratedFailurePercentage", "Label", "Output", "Assign"},
}


def _ptr(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Validator(StateChecks):
    def __init__(self, resolver: ResourceResolver, scopes: dict[tuple[str | int, ...], dict[str, Any]]) -> None:
        self.resolver = resolver
        self.scopes = scopes
        self.errors: list[ValidationError] = []

    def add(self, code: str, message: str, *where: str | int) -> None:
        self.errors.append(ValidationError(code, message, _ptr(*where)))

    # -- machine -----------------------------------------------------------------
    def machine(self, node: Any, where: tuple[str | int, ...], language: QueryLanguage, top: bool) -> None:
        if not isinstance(node, dict):
            self.add(SCHEMA, "A state machine must be a JSON object", *where)
            return
        allowed = TOP_FIELDS if top else MACHINE_FIELDS
        for key in node:
            if key not in allowed:
                self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        language, problem = resolve_query_language(node, language, Scope.TOP if top else Scope.MACHINE)
        if problem:
            self.add(SCHEMA, problem, *where, "QueryLanguage")
        if top and "TimeoutSeconds" in node and (not _is_int(node["TimeoutSeconds"]) or node["TimeoutSeconds"] <= 0):
            self.add(SCHEMA, "TimeoutSeconds must be a positive integer", *where, "TimeoutSeconds")
        states = node.get("States")
        start = node.get("StartAt")
        if "StartAt" not in node:
            self.add(SCHEMA, "These fields are required: [StartAt]", *where)
        elif not isinstance(start, str):
            self.add(SCHEMA, "StartAt must be a string", *where, "StartAt")
        if not isinstance(states, dict) or not states:
            self.add(SCHEMA, "These fields are required: [States]" if states is None
                     else "States must be a non-empty object", *where, *(() if states is None else ("States",)))
            return
        if isinstance(start, str) and start not in states:
            self.add(TARGET, f"Missing 'StartAt' target: {start}", *where, "StartAt")
        for name, state in states.items():
            if not 1 <= len(name) <= 80:
                self.add(SCHEMA, f"State name \"{name[:90]}\" must be 1 to 80 characters long", *where, "States", name)
            self.state(name, state, (*where, "States", name), states, language)
        self.reachability(node, states, where)

    def reachability(self, node: dict[str, Any], states: dict[str, Any], where: tuple[str | int, ...]) -> None:
        start = node.get("StartAt")
        if not isinstance(start, str) or start not in states:
            return
        seen = {start}
        todo = [start]
        terminal = False
        while todo:
            name = todo.pop()
            state = states.get(name)
            if not isinstance(state, dict):
                continue
            targets = list(_targets(state))
            if state.get("Type") in ("Succeed", "Fail") or state.get("End") is True:
                terminal = True
            for t in targets:
                if isinstance(t, str) and t in states and t not in seen:
                    seen.add(t)
                    todo.append(t)
        for name in states:
            if name not in seen:
                self.add(UNREACHABLE, f"State \"{name}\" is not reachable", *where, "States", name)
        if not terminal:
            self.add(NO_TERMINAL, "No terminal state: at least one state must have \"End\": true or be of type "
                     "Succeed or Fail", *where)

    # -- one state ---------------------------------------------------------------
    def state(self, name: str, state: Any, where: tuple[str | int, ...], states: dict[str, Any],
              language: QueryLanguage) -> None:
        if not isinstance(state, dict):
            self.add(SCHEMA, "A state must be a JSON object", *where)
            return
        typ = state.get("Type")
        if typ is None:
            self.add(SCHEMA, "These fields are required: [Type]", *where)
            return
        if typ not in STATE_TYPES:
            self.add(SCHEMA, f"The value of Type must be one of {', '.join(STATE_TYPES)}, not \"{typ}\"",
                     *where, "Type")
            return
        ql, problem = resolve_query_language(state, language, Scope.STATE)
        if problem:
            self.add(SCHEMA, problem, *where, "QueryLanguage")
        jsonata = ql is QueryLanguage.JSONATA
        allowed = (JSONATA_FIELDS if jsonata else JSONPATH_FIELDS)[typ]
        other = (JSONPATH_FIELDS if jsonata else JSONATA_FIELDS)[typ]
        for key in state:
            if key not in allowed:
                if key in other:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported for QueryLanguage {ql.value}", *where,
                             key)
                else:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        self.transitions(state, typ, where, states)
        if jsonata:
            self.jsonata_fields(state, where)
        else:
            self.jsonpath_fields(state, where)
        getattr(self, f"state_{typ.lower()}")(state, where, ql)

    def transitions(self, state: dict[str, Any], typ: str, where: tuple[str | int, ...],
                    states: dict[str, Any]) -> None:
        if typ in ("Choice", "Succeed", "Fail"):
            return
        has_next, end = "Next" in state, state.get("End")
        if has_next and end is not None:
            self.add(SCHEMA, "Only one of \"Next\" or \"End\" can be present", *where)
        elif not has_next and end is not True:
            if end is not None and end is not True:
                self.add(SCHEMA, "\"End\" must be true", *where, "End")
            else:
                self.add(SCHEMA, "These fields are required: [Next or End]", *where)
        if has_next:
            self.target(state["Next"], states, (*where, "Next"))

    def target(self, name: Any, states: dict[str, Any], where: tuple[str | int, ...]) -> None:
        if not isinstance(name, str):
            self.add(SCHEMA, "A transition target must be a string", *where)
        elif name not in states:
            self.add(TARGET, f"Missing 'Next' target: {name}", *where)

    # -- field families ------------------------------------------------------------
    def path(self, value: Any, where: tuple[str | int, ...], *, reference: bool, nullable: bool = True,
             result_path: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str):
            self.add(SCHEMA, "The value must be a JSONPath string" + (" or null" if nullable else ""), *where)
            return
        try:
            path = JsonPath(value)
        except PathSyntaxError as exc:
            self.add(BAD_PATH, f"The value \"{value}\" is not a valid JsonPath: {exc}", *where)
            return
        if reference and not path.is_reference:
            self.add(BAD_PATH, f"The value \"{value}\" is not a valid Reference Path", *where)
        elif result_path and path.variable is not None:
            # "Variables cannot be used in ResultPath" (developer guide, variables).
            self.add(BAD_PATH, f"The value \"{value}\" is not a valid ResultPath: variables cannot be used in "
                     "ResultPath; use Assign to set a variable", *where)

    def template(self, value: Any, where: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    if not isinstance(sub, str):
                        self.add(SCHEMA, f"The value for the field '{key}' must be a STRING that contains a "
                                 f"JSONPath but was an {json_type_name(sub).upper()}", *where, key)
                    elif sub.startswith("$"):
                        self.path(sub, (*where, key), reference=False, nullable=False)
                    else:
                        self.intrinsic(sub, (*where, key))
                else:
                    self.template(sub, (*where, key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                self.template(sub, (*where, i))

    def intrinsic(self, text: str, where: tuple[str | int, ...]) -> None:
        try:
            parse_intrinsic(text)
        except IntrinsicSyntaxError as exc:
            self.add(BAD_INTRINSIC, f"The value \"{text}\" is not a valid intrinsic function: {exc}", *where)

    def jsonata(self, value: Any, where: tuple[str | int, ...]) -> None:
        if is_expression(value):
            try:
                check_syntax(strip_delimiters(value))
            except JsonataSyntaxError as exc:
                self.add(BAD_JSONATA, f"The JSONata expression \"{value}\" is not valid: {exc}", *where)
        elif isinstance(value, dict):
            for key, sub in value.items():
                self.jsonata(sub, (*where, key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                self.jsonata(sub, (*where, i))

    def assign(self, value: Any, where: tuple[str | int, ...], jsonata: bool) -> None:
        if not isinstance(value, dict):
            self.add(SCHEMA, "Assign must be a JSON object", *where)
            return
        for key in value:
            name = key[:-2] if key.endswith(".$") and not jsonata else key
            if not name or name == "states" or not (name[0].isalpha() or name[0] == "_") \
                    or not all(c.isalnum() or c == "_" for c in name):
                self.add(SCHEMA, f"The variable name \"{name}\" is not valid", *where, key)
        if jsonata:
            self.jsonata(value, where)
        else:
            self.template(value, where)

    def jsonpath_fields(self, state: dict[str, Any], where: tuple[str | int, ...]) -> None:
        for key in ("InputPath", "OutputPath"):
            if key in state:
                self.path(state[key], (*where, key), reference=False)
        if "ResultPath" in state:
            self.path(state["ResultPath"], (*where, "ResultPath"), reference=True, result_path=True)
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in state:
                self.template(state[key], (*where, key))
        if "Assign" in state:
            self.assign(state["Assign"], (*where, "Assign"), jsonata=False)
        if "ResultSelector" in state and not isinstance(state["ResultSelector"], dict):
            self.add(SCHEMA, "ResultSelector must be a JSON object", *where, "ResultSelector")

    def jsonata_fields(self, state: dict[str, Any], where: tuple[str | int, ...]) -> None:
        for key in ("Arguments", "Output", "Items", "ItemSelector", "TimeoutSeconds", "HeartbeatSeconds",
                    "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Seconds",
                    "Timestamp", "Error", "Cause"):
            if key in state:
                self.jsonata(state[key], (*where, key))
        if "Assign" in state:
            self.assign(state["Assign"], (*where, "Assign"), jsonata=True)

    def _siblings(self, where: tuple[str | int, ...]) -> dict[str, Any] | None:
        """The states beside the state at ``where`` (targets of its Catch/Choice rules)."""
        return self.scopes.get(where[:-1])


def _targets(state: dict[str, Any]) -> Iterable[Any]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and "Next" in rule:
            yield rule["Next"]
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and "Next" in catcher:
            yield catcher["Next"]


def _collect_scopes(node: Any, where: tuple[str | int, ...], out: dict[tuple[str | int, ...], dict[str, Any]]) -> None:
    """Map the pointer of each ``States`` object to its states, so a state can find its siblings."""
    if not isinstance(node, dict):
        return
    states = node.get("States")
    if not isinstance(states, dict):
        return
    out[(*where, "States")] = states
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        for i, branch in enumerate(state.get("Branches") or [] if isinstance(state.get("Branches"), list) else []):
            _collect_scopes(branch, (*where, "States", name, "Branches", i), out)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                _collect_scopes(state[key], (*where, "States", name, key), out)


def validate_document(definition: Any, resolver: ResourceResolver | None = None) -> list[ValidationError]:
    """All problems of a parsed definition (an empty list means AWS would accept it)."""
    scopes: dict[tuple[str | int, ...], dict[str, Any]] = {}
    _collect_scopes(definition, (), scopes)
    v = _Validator(resolver or default_resolver(), scopes)
    v.machine(definition, (), QueryLanguage.JSONPATH, top=True)
    if not v.errors:
        v.errors.extend(check_variables(definition))
    return v.errors
