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
from scones.workflow.asl.paths import JsonPath, PathSyntaxError
from scones.workflow.asl.resources import ResourceResolver, default_resolver
from scones.workflow.asl.states.choice_rules import ALL_OPERATORS, TYPE_TESTS
from scones.workflow.asl.timestamps import parse_timestamp
from scones.workflow.asl.variable_check import check_variables

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
TARGET: Final = "MISSING_TRANSITION_TARGET"
UNREACHABLE: Final = "UNREACHABLE_STATE"
NO_TERMINAL: Final = "MISSING_TERMINAL_STATE"
BAD_PATH: Final = "INVALID_JSON_PATH"
BAD_INTRINSIC: Final = "INVALID_INTRINSIC_FUNCTION"
BAD_JSONATA: Final = "INVALID_JSONATA"
BAD_RESOURCE: Final = "INVALID_RESOURCE"

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
RETRY_FIELDS: Final = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                                 "JitterStrategy", "Comment"})
CATCH_FIELDS_JSONPATH: Final = frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"})
CATCH_FIELDS_JSONATA: Final = frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"})


def _ptr(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Validator:
    def __init__(self, resolver: ResourceResolver, scopes: dict[tuple[str | int, ...], dict[str, Any]]) -> None:
        self.resolver = resolver
        self.scopes = scopes
        self.errors: list[ValidationError] = []

    def add(self, code: str, message: str, *where: str | int) -> None:
        self.errors.append(ValidationError(code, message, _ptr(*where)))

    # -- machine -----------------------------------------------------------------
    def machine(self, node: Any, where: tuple[str | int, ...], language: str, top: bool) -> None:
        if not isinstance(node, dict):
            self.add(SCHEMA, "A state machine must be a JSON object", *where)
            return
        allowed = TOP_FIELDS if top else MACHINE_FIELDS
        for key in node:
            if key not in allowed:
                self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        if "QueryLanguage" in node:
            ql = node["QueryLanguage"]
            if ql not in ("JSONPath", "JSONata"):
                self.add(SCHEMA, f"The value of QueryLanguage must be \"JSONPath\" or \"JSONata\", not {ql!r}",
                         *where, "QueryLanguage")
            elif language == "JSONata" and ql == "JSONPath" and not top:
                self.add(SCHEMA, "A JSONPath QueryLanguage cannot be nested in a JSONata scope", *where,
                         "QueryLanguage")
            else:
                language = ql
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
    def state(self, name: str, state: Any, where: tuple[str | int, ...], states: dict[str, Any], language: str) -> None:
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
        ql = state.get("QueryLanguage", language)
        if "QueryLanguage" in state:
            if ql not in ("JSONPath", "JSONata"):
                self.add(SCHEMA, f"The value of QueryLanguage must be \"JSONPath\" or \"JSONata\", not {ql!r}",
                         *where, "QueryLanguage")
                ql = language
            elif language == "JSONata" and ql == "JSONPath":
                self.add(SCHEMA, "The QueryLanguage of a state cannot be JSONPath when the state machine's "
                         "QueryLanguage is JSONata", *where, "QueryLanguage")
        jsonata = ql == "JSONata"
        allowed = (JSONATA_FIELDS if jsonata else JSONPATH_FIELDS)[typ]
        other = (JSONPATH_FIELDS if jsonata else JSONATA_FIELDS)[typ]
        for key in state:
            if key not in allowed:
                if key in other:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported for QueryLanguage {ql}", *where, key)
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
    def path(self, value: Any, where: tuple[str | int, ...], *, reference: bool, nullable: bool = True) -> None:
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

    def template(self, value: Any, where: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    if not isinstance(sub, str):
                        self.add(SCHEMA, f"The value for the field '{key}' must be a STRING that contains a "
                                 f"JSONPath but was an {_json_type(sub).upper()}", *where, key)
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
            self.path(state["ResultPath"], (*where, "ResultPath"), reference=True)
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

    def retry_catch(self, state: dict[str, Any], where: tuple[str | int, ...], jsonata: bool,
                    states: dict[str, Any] | None) -> None:
        for kind in ("Retry", "Catch"):
            if kind not in state:
                continue
            entries = state[kind]
            if not isinstance(entries, list):
                self.add(SCHEMA, f"{kind} must be an array", *where, kind)
                continue
            for i, entry in enumerate(entries):
                w = (*where, kind, i)
                if not isinstance(entry, dict):
                    self.add(SCHEMA, f"Each {kind} entry must be a JSON object", *w)
                    continue
                allowed = RETRY_FIELDS if kind == "Retry" else (CATCH_FIELDS_JSONATA if jsonata
                                                                 else CATCH_FIELDS_JSONPATH)
                for key in entry:
                    if key not in allowed:
                        self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *w, key)
                self.error_equals(entry, w, last=i == len(entries) - 1)
                if kind == "Retry":
                    self.retrier(entry, w)
                else:
                    if "Next" not in entry:
                        self.add(SCHEMA, "These fields are required: [Next]", *w)
                    elif states is not None:
                        self.target(entry["Next"], states, (*w, "Next"))
                    if "ResultPath" in entry:
                        self.path(entry["ResultPath"], (*w, "ResultPath"), reference=True)
                    if "Assign" in entry:
                        self.assign(entry["Assign"], (*w, "Assign"), jsonata)
                    if "Output" in entry:
                        self.jsonata(entry["Output"], (*w, "Output"))

    def error_equals(self, entry: dict[str, Any], where: tuple[str | int, ...], last: bool) -> None:
        errors = entry.get("ErrorEquals")
        if errors is None:
            self.add(SCHEMA, "These fields are required: [ErrorEquals]", *where)
            return
        if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
            self.add(SCHEMA, "ErrorEquals must be a non-empty array of strings", *where, "ErrorEquals")
            return
        if "States.ALL" in errors and (len(errors) > 1 or not last):
            self.add(SCHEMA, "States.ALL must appear alone in ErrorEquals and only in the last Retrier/Catcher",
                     *where, "ErrorEquals")

    def retrier(self, entry: dict[str, Any], where: tuple[str | int, ...]) -> None:
        checks = (("IntervalSeconds", 1), ("MaxAttempts", 0), ("MaxDelaySeconds", 1))
        for key, minimum in checks:
            if key in entry and (not _is_int(entry[key]) or entry[key] < minimum):
                self.add(SCHEMA, f"{key} must be an integer >= {minimum}", *where, key)
        if "BackoffRate" in entry:
            rate = entry["BackoffRate"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 1.0:
                self.add(SCHEMA, "BackoffRate must be a number >= 1.0", *where, "BackoffRate")
        if "JitterStrategy" in entry and entry["JitterStrategy"] not in ("FULL", "NONE"):
            self.add(SCHEMA, "JitterStrategy must be FULL or NONE", *where, "JitterStrategy")

    # -- per type ------------------------------------------------------------------
    def state_pass(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        pass

    def state_succeed(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        pass

    def state_fail(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        for plain, dynamic in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if plain in state and dynamic in state:
                self.add(SCHEMA, f"Only one of \"{plain}\" or \"{dynamic}\" can be present", *where)
            if dynamic in state:
                value = state[dynamic]
                if isinstance(value, str) and value.startswith("$"):
                    self.path(value, (*where, dynamic), reference=False, nullable=False)
                elif isinstance(value, str):
                    self.intrinsic(value, (*where, dynamic))
                else:
                    self.add(SCHEMA, f"{dynamic} must be a path or an intrinsic function", *where, dynamic)
            if plain in state and not isinstance(state[plain], str):
                self.add(SCHEMA, f"{plain} must be a string", *where, plain)

    def state_wait(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        present = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state]
        if len(present) != 1:
            self.add(SCHEMA, "Exactly one of Seconds, SecondsPath, Timestamp or TimestampPath is required", *where)
        if "Seconds" in state and not is_expression(state["Seconds"]):
            if not _is_int(state["Seconds"]) or state["Seconds"] < 0:
                self.add(SCHEMA, "Seconds must be a non-negative integer", *where, "Seconds")
        for key in ("SecondsPath", "TimestampPath"):
            if key in state:
                self.path(state[key], (*where, key), reference=True, nullable=False)
        if "Timestamp" in state and not is_expression(state["Timestamp"]):
            if parse_timestamp(state["Timestamp"]) is None:
                self.add(SCHEMA, f"The value \"{state['Timestamp']}\" is not a valid ISO-8601 timestamp",
                         *where, "Timestamp")

    def state_task(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        resource = state.get("Resource")
        if resource is None:
            self.add(SCHEMA, "These fields are required: [Resource]", *where)
        elif not isinstance(resource, str):
            self.add(SCHEMA, "Resource must be a string", *where, "Resource")
        elif self.resolver.resolve(resource) is None:
            self.add(BAD_RESOURCE, f"The resource provided {resource} is not recognized. The value is not a valid "
                     "resource ARN, or the resource is not available locally", *where, "Resource")
        for plain in ("TimeoutSeconds", "HeartbeatSeconds"):
            if plain in state and plain + "Path" in state:
                self.add(SCHEMA, f"Only one of \"{plain}\" or \"{plain}Path\" can be present", *where)
            if plain in state and not is_expression(state[plain]):
                if not _is_int(state[plain]) or state[plain] <= 0:
                    self.add(SCHEMA, f"{plain} must be a positive integer", *where, plain)
            if plain + "Path" in state:
                self.path(state[plain + "Path"], (*where, plain + "Path"), reference=True, nullable=False)
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if _is_int(timeout) and _is_int(heartbeat) and heartbeat >= timeout:
            self.add(SCHEMA, "HeartbeatSeconds must be smaller than TimeoutSeconds", *where, "HeartbeatSeconds")
        self.retry_catch(state, where, ql == "JSONata", self._siblings(where))

    def state_choice(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        choices = state.get("Choices")
        siblings = self._siblings(where)
        if not isinstance(choices, list) or not choices:
            self.add(SCHEMA, "Choices must be a non-empty array", *where, *(("Choices",) if "Choices" in state else ()))
        else:
            for i, rule in enumerate(choices):
                self.choice_rule(rule, (*where, "Choices", i), ql == "JSONata", top=True, states=siblings)
        if "Default" in state and siblings is not None:
            self.target(state["Default"], siblings, (*where, "Default"))

    def choice_rule(self, rule: Any, where: tuple[str | int, ...], jsonata: bool, top: bool,
                    states: dict[str, Any] | None) -> None:
        if not isinstance(rule, dict):
            self.add(SCHEMA, "A Choice Rule must be a JSON object", *where)
            return
        if top:
            if "Next" not in rule:
                self.add(SCHEMA, "These fields are required: [Next]", *where)
            elif states is not None:
                self.target(rule["Next"], states, (*where, "Next"))
            if "Assign" in rule:
                self.assign(rule["Assign"], (*where, "Assign"), jsonata)
        elif "Next" in rule:
            self.add(SCHEMA, "A nested Choice Rule cannot have \"Next\"", *where, "Next")
        extra = {"Next", "Comment", "Assign"} | ({"Output"} if top and jsonata else set())
        if jsonata:
            if "Condition" not in rule:
                self.add(SCHEMA, "These fields are required: [Condition]", *where)
            else:
                cond = rule["Condition"]
                if not isinstance(cond, bool) and not is_expression(cond):
                    self.add(SCHEMA, "Condition must be a JSONata expression or a boolean", *where, "Condition")
                self.jsonata(cond, (*where, "Condition"))
            if "Output" in rule:
                self.jsonata(rule["Output"], (*where, "Output"))
            for key in rule:
                if key not in extra | {"Condition"}:
                    self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
            return
        operators = [k for k in rule if k in ALL_OPERATORS or k in ("And", "Or", "Not")]
        for key in rule:
            if key not in operators and key not in extra | {"Variable"}:
                self.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        if len(operators) != 1:
            self.add(SCHEMA, "A Choice Rule must have exactly one comparison operator (or And/Or/Not)", *where)
            return
        op = operators[0]
        if op in ("And", "Or"):
            subs = rule[op]
            if not isinstance(subs, list) or not subs:
                self.add(SCHEMA, f"{op} must be a non-empty array of Choice Rules", *where, op)
                return
            for i, sub in enumerate(subs):
                self.choice_rule(sub, (*where, op, i), jsonata, top=False, states=states)
            return
        if op == "Not":
            self.choice_rule(rule["Not"], (*where, "Not"), jsonata, top=False, states=states)
            return
        if "Variable" not in rule:
            self.add(SCHEMA, "These fields are required: [Variable]", *where)
        else:
            self.path(rule["Variable"], (*where, "Variable"), reference=False, nullable=False)
        value = rule[op]
        if op.endswith("Path"):
            self.path(value, (*where, op), reference=False, nullable=False)
        elif op in TYPE_TESTS or op.startswith("Boolean"):
            if not isinstance(value, bool):
                self.add(SCHEMA, f"{op} must be a boolean", *where, op)
        elif op.startswith("Numeric"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.add(SCHEMA, f"{op} must be a number", *where, op)
        elif op.startswith("Timestamp"):
            if parse_timestamp(value) is None:
                self.add(SCHEMA, f"{op} must be an ISO-8601 timestamp string", *where, op)
        elif not isinstance(value, str):
            self.add(SCHEMA, f"{op} must be a string", *where, op)

    def state_parallel(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.add(SCHEMA, "Branches must be a non-empty array", *where)
        else:
            for i, branch in enumerate(branches):
                self.machine(branch, (*where, "Branches", i), ql, top=False)
        self.retry_catch(state, where, ql == "JSONata", self._siblings(where))

    def state_map(self, state: dict[str, Any], where: tuple[str | int, ...], ql: str) -> None:
        has_processor, has_iterator = "ItemProcessor" in state, "Iterator" in state
        if has_processor == has_iterator:
            self.add(SCHEMA, "Exactly one of \"ItemProcessor\" or \"Iterator\" is required", *where)
        else:
            key = "ItemProcessor" if has_processor else "Iterator"
            processor = state[key]
            self.machine(processor, (*where, key), ql, top=False)
            if isinstance(processor, dict):
                mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
                if mode not in ("INLINE", "DISTRIBUTED"):
                    self.add(SCHEMA, "ProcessorConfig.Mode must be INLINE or DISTRIBUTED", *where, key,
                             "ProcessorConfig", "Mode")
        if "ItemSelector" in state and "Parameters" in state:
            self.add(SCHEMA, "Only one of \"ItemSelector\" or \"Parameters\" can be present", *where)
        if "ItemsPath" in state:
            self.path(state["ItemsPath"], (*where, "ItemsPath"), reference=True, nullable=False)
        if "ItemReader" in state:
            self.add(SCHEMA, "ItemReader (Distributed Map reading from S3) is not supported by the local "
                     "interpreter", *where, "ItemReader")
        for key in ("MaxConcurrency", "ToleratedFailureCount"):
            if key in state and not is_expression(state[key]) and (not _is_int(state[key]) or state[key] < 0):
                self.add(SCHEMA, f"{key} must be a non-negative integer", *where, key)
            if key in state and key + "Path" in state:
                self.add(SCHEMA, f"Only one of \"{key}\" or \"{key}Path\" can be present", *where)
        pct = state.get("ToleratedFailurePercentage")
        if pct is not None and not is_expression(pct) and (
                isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100):
            self.add(SCHEMA, "ToleratedFailurePercentage must be a number between 0 and 100", *where,
                     "ToleratedFailurePercentage")
        for key in ("MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"):
            if key in state:
                self.path(state[key], (*where, key), reference=True, nullable=False)
        if "ItemBatcher" in state and not isinstance(state["ItemBatcher"], dict):
            self.add(SCHEMA, "ItemBatcher must be a JSON object", *where, "ItemBatcher")
        if "ResultWriter" in state:
            writer = state["ResultWriter"]
            if not isinstance(writer, dict) or writer.get("Resource") != "arn:aws:states:::s3:putObject":
                self.add(SCHEMA, "ResultWriter needs \"Resource\": \"arn:aws:states:::s3:putObject\"", *where,
                         "ResultWriter")
        self.retry_catch(state, where, ql == "JSONata", self._siblings(where))

    def _siblings(self, where: tuple[str | int, ...]) -> dict[str, Any] | None:
        """The states beside the state at ``where`` (targets of its Catch/Choice rules)."""
        return self.scopes.get(where[:-1])


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null" if v is None else "string"


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
    language = definition.get("QueryLanguage", "JSONPath") if isinstance(definition, dict) else "JSONPath"
    v.machine(definition, (), language if language in ("JSONPath", "JSONata") else "JSONPath", top=True)
    if not v.errors:
        v.errors.extend(check_variables(definition))
    return v.errors
