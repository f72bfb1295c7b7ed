"""Choice Rules: comparisons (and their ``...Path`` variants), ``And``/``Or``/``Not``, JSONata ``Condition``.

"A Choice Rule ... MUST contain exactly one field containing a comparison
operator ... MUST contain a Variable field" (ASL spec). A comparison whose
operand types do not fit (a number compared with StringEquals) is simply false.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from enum import Enum
from functools import lru_cache
from typing import Any, Final

from scones.workflow.asl.checks import SCHEMA, Checker, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import JsonataField, compile_field
from scones.workflow.asl.jsonata_eval import is_expression
from scones.workflow.asl.jsontext import json_type_name
from scones.workflow.asl.paths import JsonPath, PathNotFound, resolve
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.timestamps import parse_timestamp
from scones.workflow.asl.variables import UndefinedVariable


class Kind(Enum):
    STRING = "String"
    NUMERIC = "Numeric"
    BOOLEAN = "Boolean"
    TIMESTAMP = "Timestamp"


class Op(Enum):
    EQ = "Equals"
    LT = "LessThan"
    GT = "GreaterThan"
    LTE = "LessThanEquals"
    GTE = "GreaterThanEquals"


COMPARISON_OPERATORS: Final[dict[str, tuple[Kind, Op]]] = {
    f"{kind.value}{op.value}": (kind, op)
    for kind in Kind for op in Op
    if not (kind is Kind.BOOLEAN and op is not Op.EQ)
}
TYPE_TESTS: Final = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
ALL_OPERATORS: Final = frozenset(
    list(COMPARISON_OPERATORS) + [k + "Path" for k in COMPARISON_OPERATORS] + ["StringMatches"] + list(TYPE_TESTS))


class Rule(ABC):
    @abstractmethod
    def test(self, frame: Frame, data: Any, raw: Any) -> bool: ...


def _invalid_path(frame: Frame, path: JsonPath) -> FailureError:
    return FailureError.of(
        StatesError.RUNTIME,
        f"{frame.error_prefix()} Invalid path '{path.text}': The choice state's condition path references an "
        f"invalid value.")


def _select(frame: Frame, path: JsonPath, data: Any) -> Any:
    try:
        return resolve(path, frame.scope(data))
    except (PathNotFound, UndefinedVariable) as exc:
        raise _invalid_path(frame, path) from exc


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compare(kind: Kind, op: Op, a: Any, b: Any) -> bool:
    x: Any
    y: Any
    if kind is Kind.STRING:
        if not (isinstance(a, str) and isinstance(b, str)):
            return False
        x, y = a.encode("utf-16-be"), b.encode("utf-16-be")  # Java compares UTF-16 code units
    elif kind is Kind.NUMERIC:
        if not (_is_number(a) and _is_number(b)):
            return False
        x, y = a, b
    elif kind is Kind.BOOLEAN:
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    else:
        ta, tb = parse_timestamp(a), parse_timestamp(b)
        if ta is None or tb is None:
            return False
        x, y = ta, tb
    if op is Op.EQ:
        return bool(x == y)
    if op is Op.LT:
        return bool(x < y)
    if op is Op.GT:
        return bool(x > y)
    if op is Op.LTE:
        return bool(x <= y)
    return bool(x >= y)


class Comparison(Rule):
    def __init__(self, variable: JsonPath, operator: str, operand: Any) -> None:
        self.variable = variable
        self.operator = operator
        self.is_path = operator.endswith("Path")
        self.kind, self.op = COMPARISON_OPERATORS[operator[:-4] if self.is_path else operator]
        self.operand: Any = JsonPath(operand) if self.is_path else operand

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        value = _select(frame, self.variable, data)
        other = _select(frame, self.operand, data) if self.is_path else self.operand
        return _compare(self.kind, self.op, value, other)


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class StringMatches(Rule):
    def __init__(self, variable: JsonPath, pattern: str) -> None:
        self.variable = variable
        self.pattern = pattern

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        value = _select(frame, self.variable, data)
        return isinstance(value, str) and _glob(self.pattern).fullmatch(value) is not None


class TypeTest(Rule):
    def __init__(self, variable: JsonPath, operator: str, expected: bool) -> None:
        self.variable = variable
        self.operator = operator
        self.expected = expected

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        try:
            value = resolve(self.variable, frame.scope(data))
        except (PathNotFound, UndefinedVariable) as exc:
            if self.operator == "IsPresent":
                return not self.expected
            raise _invalid_path(frame, self.variable) from exc
        op = self.operator
        if op == "IsPresent":
            actual = True
        elif op == "IsNull":
            actual = value is None
        elif op == "IsNumeric":
            actual = _is_number(value) and not (isinstance(value, float) and math.isnan(value))
        elif op == "IsString":
            actual = isinstance(value, str)
        elif op == "IsBoolean":
            actual = isinstance(value, bool)
        else:
            actual = parse_timestamp(value) is not None
        return actual == self.expected


class And(Rule):
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        return all(r.test(frame, data, raw) for r in self.rules)


class Or(Rule):
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        return any(r.test(frame, data, raw) for r in self.rules)


class Not(Rule):
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        return not self.rule.test(frame, data, raw)


class Condition(Rule):
    """JSONata: ``"Condition": "{% ... %}"`` (or a boolean) must evaluate to a boolean."""

    def __init__(self, value: Any) -> None:
        self.field = compile_field(value, QueryLanguage.JSONATA, "Condition")

    def test(self, frame: Frame, data: Any, raw: Any) -> bool:
        value = self.field.eval(frame, data, raw)
        if not isinstance(value, bool):
            assert isinstance(self.field, JsonataField) and self.field.expression is not None  # literals: booleans
            raise FailureError.of(
                StatesError.QUERY_EVALUATION_ERROR,
                f"{frame.error_prefix()} The JSONata expression '{self.field.expression.text}' specified for the "
                f"field 'Condition' returned an unexpected result type. Expected 'boolean', but was "
                f"'{json_type_name(value)}' for value: {value!r}")
        return value


def build_rule(props: dict[str, Any]) -> Rule:
    """Build a (possibly nested) rule; the validator has checked its shape."""
    if "Condition" in props:
        return Condition(props["Condition"])
    if "And" in props:
        return And([build_rule(r) for r in props["And"]])
    if "Or" in props:
        return Or([build_rule(r) for r in props["Or"]])
    if "Not" in props:
        return Not(build_rule(props["Not"]))
    variable = JsonPath(props["Variable"])
    for key, value in props.items():
        if key in TYPE_TESTS:
            return TypeTest(variable, key, bool(value))
        if key == "StringMatches":
            return StringMatches(variable, value)
        if key in ALL_OPERATORS:
            return Comparison(variable, key, value)
    raise ValueError("choice rule without operator")  # unreachable after validation


def validate_rule(checker: Checker, rule: Any, where: Where, language: QueryLanguage, top: bool,
                  states: dict[str, Any]) -> None:
    """A Choice Rule (``top``: one of ``Choices``, with ``Next``; else nested in And/Or/Not)."""
    if not isinstance(rule, dict):
        checker.add(SCHEMA, "A Choice Rule must be a JSON object", *where)
        return
    jsonata = language is QueryLanguage.JSONATA
    if top:
        if "Next" not in rule:
            checker.add(SCHEMA, "These fields are required: [Next]", *where)
        else:
            checker.target(rule["Next"], states, (*where, "Next"))
        if "Assign" in rule:
            checker.assign(rule["Assign"], (*where, "Assign"), language)
    elif "Next" in rule:
        checker.add(SCHEMA, "A nested Choice Rule cannot have \"Next\"", *where, "Next")
    extra = {"Next", "Comment", "Assign"} | ({"Output"} if top and jsonata else set())
    if jsonata:
        if "Condition" not in rule:
            checker.add(SCHEMA, "These fields are required: [Condition]", *where)
        else:
            cond = rule["Condition"]
            if not isinstance(cond, bool) and not is_expression(cond):
                checker.add(SCHEMA, "Condition must be a JSONata expression or a boolean", *where, "Condition")
            checker.jsonata(cond, (*where, "Condition"))
        if "Output" in rule:
            checker.jsonata(rule["Output"], (*where, "Output"))
        checker.unknown_fields(rule, where, extra | {"Condition"})
        return
    operators = [k for k in rule if k in ALL_OPERATORS or k in ("And", "Or", "Not")]
    checker.unknown_fields(rule, where, {*operators, *extra, "Variable"})
    if len(operators) != 1:
        checker.add(SCHEMA, "A Choice Rule must have exactly one comparison operator (or And/Or/Not)", *where)
        return
    op = operators[0]
    if op in ("And", "Or"):
        subs = rule[op]
        if not isinstance(subs, list) or not subs:
            checker.add(SCHEMA, f"{op} must be a non-empty array of Choice Rules", *where, op)
            return
        for i, sub in enumerate(subs):
            validate_rule(checker, sub, (*where, op, i), language, top=False, states=states)
        return
    if op == "Not":
        validate_rule(checker, rule["Not"], (*where, "Not"), language, top=False, states=states)
        return
    if "Variable" not in rule:
        checker.add(SCHEMA, "These fields are required: [Variable]", *where)
    else:
        checker.path(rule["Variable"], (*where, "Variable"), reference=False, nullable=False)
    value = rule[op]
    if op.endswith("Path"):
        checker.path(value, (*where, op), reference=False, nullable=False)
    elif op in TYPE_TESTS or op.startswith("Boolean"):
        if not isinstance(value, bool):
            checker.add(SCHEMA, f"{op} must be a boolean", *where, op)
    elif op.startswith("Numeric"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            checker.add(SCHEMA, f"{op} must be a number", *where, op)
    elif op.startswith("Timestamp"):
        if parse_timestamp(value) is None:
            checker.add(SCHEMA, f"{op} must be an ISO-8601 timestamp string", *where, op)
    elif not isinstance(value, str):
        checker.add(SCHEMA, f"{op} must be a string", *where, op)
