"""The validator's shared part: where problems go, state machines, transitions and the field families.

Each state class checks its own fields (``State.validate``) and calls these
helpers for what all constructs share: paths, payload templates, intrinsic
functions, JSONata expressions, ``Assign`` and transitions. Problems are
collected, never raised, so every one is reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, Protocol, TypeGuard

from scones.workflow.asl.errors import ValidationError
from scones.workflow.asl.jsonata_eval import JsonataSyntaxError, check_syntax, is_expression, strip_delimiters
from scones.workflow.asl.jsontext import json_type_name
from scones.workflow.asl.paths import JsonPath, PathSyntaxError
from scones.workflow.asl.query_language import QueryLanguage, Scope, resolve_query_language
from scones.workflow.asl.resources import ResourceResolver

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
TARGET: Final = "MISSING_TRANSITION_TARGET"
UNREACHABLE: Final = "UNREACHABLE_STATE"
NO_TERMINAL: Final = "MISSING_TERMINAL_STATE"
BAD_PATH: Final = "INVALID_JSON_PATH"
BAD_INTRINSIC: Final = "INVALID_INTRINSIC_FUNCTION"
BAD_JSONATA: Final = "INVALID_JSONATA"
BAD_RESOURCE: Final = "INVALID_RESOURCE"

TOP_FIELDS: Final = frozenset({"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"})
MACHINE_FIELDS: Final = frozenset({"Comment", "StartAt", "States", "ProcessorConfig", "QueryLanguage"})
#: Building blocks of the states' field tables.
COMMON: Final = frozenset({"Type", "Comment", "QueryLanguage"})
JSONPATH_IO: Final = frozenset({"InputPath", "OutputPath"})
FLOW: Final = frozenset({"Next", "End"})
ERRORS: Final = frozenset({"Retry", "Catch"})
#: JSONata fields whose values may hold expressions (besides ``Assign``), in the order they are checked.
_JSONATA_VALUES: Final = ("Arguments", "Output", "Items", "ItemSelector", "TimeoutSeconds", "HeartbeatSeconds",
                          "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Seconds",
                          "Timestamp", "Error", "Cause")

#: The JSON pointer of a field, as a tuple of keys and indices.
Where = tuple[str | int, ...]
#: The fields a construct allows, per query language.
FieldTable = Mapping[QueryLanguage, frozenset[str]]


class Construct(Protocol):
    """A state class as the validator sees it (see ``states.registry``)."""

    def validate(self, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                 language: QueryLanguage) -> None: ...


def pointer(where: Where) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in where)


def expression_allowed(value: Any, language: QueryLanguage) -> bool:
    """A ``{% ... %}`` string stands for a value in JSONata states only: in a JSONPath state it is a string like any
    other, refused where a number or a timestamp is expected, as AWS refuses it (docs/aws-facts.md, Validation)."""
    return language is QueryLanguage.JSONATA and is_expression(value)


def number_problem(value: Any, fallback: str) -> str:
    """The message for a value that is not the number a field needs: AWS's for a string, else ``fallback``."""
    return "Expected value of type Integer" if isinstance(value, str) else fallback


def is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


class Checker:
    """Collects the problems of one definition; ``constructs`` maps each ``Type`` to its class."""

    def __init__(self, resolver: ResourceResolver, constructs: Mapping[str, Construct]) -> None:
        self.resolver = resolver
        self.constructs = constructs
        self.errors: list[ValidationError] = []

    def add(self, code: str, message: str, *where: str | int) -> None:
        self.errors.append(ValidationError(code, message, pointer(where)))

    # -- state machines ----------------------------------------------------------
    def machine(self, node: Any, where: Where, outer: QueryLanguage, top: bool) -> None:
        if not isinstance(node, dict):
            self.add(SCHEMA, "A state machine must be a JSON object", *where)
            return
        self.unknown_fields(node, where, TOP_FIELDS if top else MACHINE_FIELDS)
        language, problem = resolve_query_language(node, outer, Scope.TOP if top else Scope.MACHINE)
        if problem:
            self.add(SCHEMA, problem, *where, "QueryLanguage")
        if top and "TimeoutSeconds" in node and (not is_int(node["TimeoutSeconds"]) or node["TimeoutSeconds"] <= 0):
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
            self.state(state, (*where, "States", name), states, language)
        self.reachability(node, states, where)

    def reachability(self, node: dict[str, Any], states: dict[str, Any], where: Where) -> None:
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

    def state(self, state: Any, where: Where, states: dict[str, Any], outer: QueryLanguage) -> None:
        """One state: its ``Type`` picks the class that checks the rest."""
        if not isinstance(state, dict):
            self.add(SCHEMA, "A state must be a JSON object", *where)
            return
        typ = state.get("Type")
        if typ is None:
            self.add(SCHEMA, "These fields are required: [Type]", *where)
            return
        construct = self.constructs.get(typ) if isinstance(typ, str) else None
        if construct is None:
            self.add(SCHEMA, f"The value of Type must be one of {', '.join(self.constructs)}, not \"{typ}\"",
                     *where, "Type")
            return
        language, problem = resolve_query_language(state, outer, Scope.STATE)
        if problem:
            self.add(SCHEMA, problem, *where, "QueryLanguage")
        construct.validate(self, state, where, states, language)

    # -- fields every state shares ---------------------------------------------------
    def unknown_fields(self, node: Mapping[str, Any], where: Where, allowed: Collection[str]) -> None:
        """Each key of ``node`` (a state machine, a Retry or Catch entry, a Choice Rule ...) outside ``allowed``."""
        for key in node:
            if key not in allowed:
                self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)

    def fields(self, state: dict[str, Any], where: Where, table: FieldTable, language: QueryLanguage) -> None:
        """Each field must be one the state's type allows in its query language."""
        other = QueryLanguage.JSONPATH if language is QueryLanguage.JSONATA else QueryLanguage.JSONATA
        allowed, elsewhere = table[language], table[other]
        for key in state:
            if key not in allowed:
                if key in elsewhere:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported for QueryLanguage {language.value}",
                             *where, key)
                else:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)

    def transition(self, state: dict[str, Any], where: Where, states: dict[str, Any]) -> None:
        """Exactly one of ``Next`` (a state beside this one) or ``"End": true``."""
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

    def target(self, name: Any, states: dict[str, Any], where: Where) -> None:
        if not isinstance(name, str):
            self.add(SCHEMA, "A transition target must be a string", *where)
        elif name not in states:
            self.add(TARGET, f"Missing 'Next' target: {name}", *where)

    def data_fields(self, state: dict[str, Any], where: Where, language: QueryLanguage) -> None:
        """The input/output fields of the state's query language."""
        if language is QueryLanguage.JSONATA:
            for key in _JSONATA_VALUES:
                if key in state:
                    self.jsonata(state[key], (*where, key))
            if "Assign" in state:
                self.assign(state["Assign"], (*where, "Assign"), language)
            return
        for key in ("InputPath", "OutputPath"):
            if key in state:
                self.path(state[key], (*where, key), reference=False)
        if "ResultPath" in state:
            self.path(state["ResultPath"], (*where, "ResultPath"), reference=True, result_path=True)
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in state:
                self.template(state[key], (*where, key))
        if "Assign" in state:
            self.assign(state["Assign"], (*where, "Assign"), language)
        if "ResultSelector" in state and not isinstance(state["ResultSelector"], dict):
            self.add(SCHEMA, "ResultSelector must be a JSON object", *where, "ResultSelector")

    # -- field families ------------------------------------------------------------
    def path(self, value: Any, where: Where, *, reference: bool, nullable: bool = True,
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

    def path_or_intrinsic(self, value: Any, where: Where) -> bool:
        """A string that is a path (``$...``) or an intrinsic function; False when it is not a string."""
        if not isinstance(value, str):
            return False
        if value.startswith("$"):
            self.path(value, where, reference=False, nullable=False)
        else:
            self.intrinsic(value, where)
        return True

    def template(self, value: Any, where: Where) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    if not self.path_or_intrinsic(sub, (*where, key)):
                        self.add(SCHEMA, f"The value for the field '{key}' must be a STRING that contains a "
                                 f"JSONPath but was an {json_type_name(sub).upper()}", *where, key)
                else:
                    self.template(sub, (*where, key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                self.template(sub, (*where, i))

    def intrinsic(self, text: str, where: Where) -> None:
        from scones.workflow.asl.intrinsics import IntrinsicSyntaxError, parse_intrinsic  # only when used

        try:
            parse_intrinsic(text)
        except IntrinsicSyntaxError as exc:
            self.add(BAD_INTRINSIC, f"The value \"{text}\" is not a valid intrinsic function: {exc}", *where)

    def jsonata(self, value: Any, where: Where) -> None:
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

    def assign(self, value: Any, where: Where, language: QueryLanguage) -> None:
        if not isinstance(value, dict):
            self.add(SCHEMA, "Assign must be a JSON object", *where)
            return
        jsonata = language is QueryLanguage.JSONATA
        for key in value:
            name = key[:-2] if key.endswith(".$") and not jsonata else key
            if not name or name == "states" or not (name[0].isalpha() or name[0] == "_") \
                    or not all(c.isalnum() or c == "_" for c in name):
                self.add(SCHEMA, f"The variable name \"{name}\" is not valid", *where, key)
        if jsonata:
            self.jsonata(value, where)
        else:
            self.template(value, where)


def _targets(state: dict[str, Any]) -> Iterable[Any]:
    """Where ``state`` may go; malformed ``Choices``/``Catch`` (reported by the state's own checks) lead nowhere."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for key in ("Choices", "Catch"):
        entries = state.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and "Next" in entry:
                yield entry["Next"]
