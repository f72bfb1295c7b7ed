"""Per-state-type checks of the validator (Task, Choice, Wait, Fail, Parallel, Map) and Retry/Catch.

A mixin of ``validate._Validator``: it relies on the shared helpers declared
below (``add``, ``path``, ``target`` ...), which the validator implements.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

from scones.workflow.asl.jsonata_eval import is_expression
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.resources import ResourceResolver
from scones.workflow.asl.states.choice_rules import ALL_OPERATORS, TYPE_TESTS
from scones.workflow.asl.states.wait_state import MAX_WAIT_SECONDS
from scones.workflow.asl.timestamps import parse_timestamp

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
BAD_RESOURCE: Final = "INVALID_RESOURCE"

RETRY_FIELDS: Final = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                                 "JitterStrategy", "Comment"})
CATCH_FIELDS_JSONPATH: Final = frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"})
CATCH_FIELDS_JSONATA: Final = frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"})

Where = tuple[str | int, ...]


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


class StateChecks:
    resolver: ResourceResolver

    # -- provided by the validator -------------------------------------------------
    def add(self, code: str, message: str, *where: str | int) -> None:
        raise NotImplementedError

    def path(self, value: Any, where: Where, *, reference: bool, nullable: bool = True,
             result_path: bool = False) -> None:
        raise NotImplementedError

    def intrinsic(self, text: str, where: Where) -> None:
        raise NotImplementedError

    def jsonata(self, value: Any, where: Where) -> None:
        raise NotImplementedError

    def assign(self, value: Any, where: Where, jsonata: bool) -> None:
        raise NotImplementedError

    def target(self, name: Any, states: dict[str, Any], where: Where) -> None:
        raise NotImplementedError

    def machine(self, node: Any, where: Where, language: QueryLanguage, top: bool) -> None:
        raise NotImplementedError

    def _siblings(self, where: Where) -> dict[str, Any] | None:
        raise NotImplementedError

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
                        self.path(entry["ResultPath"], (*w, "ResultPath"), reference=True, result_path=True)
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
    def state_pass(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
        pass

    def state_succeed(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
        pass

    def state_fail(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
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

    def state_wait(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
        present = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state]
        if len(present) != 1:
            self.add(SCHEMA, "Exactly one of Seconds, SecondsPath, Timestamp or TimestampPath is required", *where)
        if "Seconds" in state and not is_expression(state["Seconds"]):
            if not _is_int(state["Seconds"]) or not 0 <= state["Seconds"] <= MAX_WAIT_SECONDS:
                # "You must specify time as an integer value from 0 to 99999999" (Wait state docs)
                self.add(SCHEMA, f"Seconds must be an integer from 0 to {MAX_WAIT_SECONDS}", *where, "Seconds")
        for key in ("SecondsPath", "TimestampPath"):
            if key in state:
                self.path(state[key], (*where, key), reference=True, nullable=False)
        if "Timestamp" in state and not is_expression(state["Timestamp"]):
            if parse_timestamp(state["Timestamp"]) is None:
                self.add(SCHEMA, f"The value \"{state['Timestamp']}\" is not a valid ISO-8601 timestamp",
                         *where, "Timestamp")

    def state_task(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
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
        self.retry_catch(state, where, ql is QueryLanguage.JSONATA, self._siblings(where))

    def state_choice(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
        choices = state.get("Choices")
        siblings = self._siblings(where)
        if not isinstance(choices, list) or not choices:
            self.add(SCHEMA, "Choices must be a non-empty array", *where, *(("Choices",) if "Choices" in state else ()))
        else:
            for i, rule in enumerate(choices):
                self.choice_rule(rule, (*where, "Choices", i), ql is QueryLanguage.JSONATA, top=True, states=siblings)
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

    def state_parallel(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.add(SCHEMA, "Branches must be a non-empty array", *where)
        else:
            for i, branch in enumerate(branches):
                self.machine(branch, (*where, "Branches", i), ql, top=False)
        self.retry_catch(state, where, ql is QueryLanguage.JSONATA, self._siblings(where))

    def state_map(self, state: dict[str, Any], where: tuple[str | int, ...], ql: QueryLanguage) -> None:
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
        self.retry_catch(state, where, ql is QueryLanguage.JSONATA, self._siblings(where))
