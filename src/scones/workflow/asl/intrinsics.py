"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath states.

An intrinsic is parsed once into a small tree (``FunctionCall`` of literal,
path and nested-call arguments) and evaluated per use. "The characters
' { } \\ must be escaped with \\ inside literals" and "up to 10 nested calls per
field" (developer guide). A failure inside a function raises
``States.IntrinsicFailure`` (quotas ``States.ArrayRange`` <= 1000 items,
``Hash``/``Base64`` inputs <= 10,000 characters included).
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from scones.workflow.asl.context import IntrinsicContext
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsontext import JsonTextError, parse_json, to_compact_json
from scones.workflow.asl.paths import JsonPath, PathScope, PathSyntaxError, resolve

MAX_NESTING: Final = 10
MAX_RANGE_ITEMS: Final = 1000
MAX_TEXT: Final = 10_000
HASH_ALGORITHMS: Final = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


class IntrinsicSyntaxError(ValueError):
    """The text looks like an intrinsic call but cannot be parsed."""


# -- tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class StringArg:
    value: str
    raw: str  # with the escapes as written, needed by States.Format's placeholders

    def eval(self, scope: PathScope, ctx: IntrinsicContext) -> Any:
        return self.value


@dataclass(frozen=True)
class ValueArg:
    value: Any

    def eval(self, scope: PathScope, ctx: IntrinsicContext) -> Any:
        return self.value


@dataclass(frozen=True)
class PathArg:
    path: JsonPath

    def eval(self, scope: PathScope, ctx: IntrinsicContext) -> Any:
        return resolve(self.path, scope)


@dataclass(frozen=True)
class FunctionCall:
    name: str
    args: tuple[StringArg | ValueArg | PathArg | FunctionCall, ...]
    text: str

    def eval(self, scope: PathScope, ctx: IntrinsicContext) -> Any:
        impl = FUNCTIONS[self.name]
        values = [a.eval(scope, ctx) for a in self.args]
        return impl(self, values, ctx)


Arg = StringArg | ValueArg | PathArg | FunctionCall


# -- parser -------------------------------------------------------------------

_NUMBER: Final = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_FUNC_NAME: Final = re.compile(r"States\.[A-Za-z0-9]+")


def parse_intrinsic(text: str) -> FunctionCall:
    parser = _Parser(text)
    call = parser.call(depth=1)
    parser.skip_ws()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after the call at position {parser.pos} of '{text}'")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self, depth: int) -> FunctionCall:
        if depth > MAX_NESTING:
            raise IntrinsicSyntaxError(f"more than {MAX_NESTING} nested intrinsic functions in '{self.text}'")
        start = self.pos
        m = _FUNC_NAME.match(self.text, self.pos)
        if not m:
            raise IntrinsicSyntaxError(f"expected a function name at position {self.pos} of '{self.text}'")
        name = m.group(0)
        if name not in FUNCTIONS:
            raise IntrinsicSyntaxError(f"unknown intrinsic function '{name}' in '{self.text}'")
        self.pos = m.end()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise IntrinsicSyntaxError(f"expected '(' after {name} in '{self.text}'")
        self.pos += 1
        args: list[Arg] = []
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
        else:
            while True:
                self.skip_ws()
                args.append(self.arg(depth))
                self.skip_ws()
                if self.pos >= len(self.text):
                    raise IntrinsicSyntaxError(f"missing ')' in '{self.text}'")
                ch = self.text[self.pos]
                self.pos += 1
                if ch == ")":
                    break
                if ch != ",":
                    raise IntrinsicSyntaxError(f"expected ',' or ')' at position {self.pos - 1} of '{self.text}'")
        call = FunctionCall(name, tuple(args), self.text[start:self.pos])
        ARITY[name].check(call)
        return call

    def arg(self, depth: int) -> Arg:
        text = self.text
        ch = text[self.pos] if self.pos < len(text) else ""
        if ch == "'":
            return self.string()
        if ch == "$":
            return self.path()
        if text.startswith("States.", self.pos):
            return self.call(depth + 1)
        m = _NUMBER.match(text, self.pos)
        if m:
            self.pos = m.end()
            word = m.group(0)
            return ValueArg(float(word) if any(c in word for c in ".eE") else int(word))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, self.pos):
                self.pos += len(word)
                return ValueArg(value)
        raise IntrinsicSyntaxError(f"unexpected argument at position {self.pos} of '{text}'")

    def string(self) -> StringArg:
        self.pos += 1
        start = self.pos
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\\":
                if self.pos + 1 >= len(text):
                    raise IntrinsicSyntaxError(f"unmatched escape at the end of '{text}'")
                out.append(text[self.pos + 1])
                self.pos += 2
                continue
            if ch == "'":
                raw = text[start:self.pos]
                self.pos += 1
                return StringArg("".join(out), raw)
            out.append(ch)
            self.pos += 1
        raise IntrinsicSyntaxError(f"unterminated string literal in '{text}'")

    def path(self) -> PathArg:
        start = self.pos
        depth = 0
        quote = ""
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if quote:
                if ch == "\\":  # an escaped quote ($['a\'b']) does not end the quoted name
                    self.pos += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"" and depth:
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            elif ch.isspace() and depth == 0:
                break
            self.pos += 1
        try:
            return PathArg(JsonPath(text[start:self.pos]))
        except PathSyntaxError as exc:
            raise IntrinsicSyntaxError(str(exc)) from exc


# -- argument checks ------------------------------------------------------------


@dataclass(frozen=True)
class Arity:
    low: int
    high: int | None  # None: unbounded

    def check(self, call: FunctionCall) -> None:
        n = len(call.args)
        if n < self.low or (self.high is not None and n > self.high):
            if self.high == self.low:
                want = str(self.low)
            else:
                want = f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"
            raise IntrinsicSyntaxError(f"{call.name} takes {want} argument(s), got {n} in '{call.text}'")


def _fail(call: FunctionCall, why: str) -> FailureError:
    return FailureError.of(StatesError.INTRINSIC_FAILURE, f"Invalid arguments in {call.name}: {why}")


def _is_int_like(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, float) and v.is_integer())


def _need(call: FunctionCall, cond: bool, why: str) -> None:
    if not cond:
        raise _fail(call, why)


def _java_round(x: float) -> int:
    """Math.round: half rounds toward positive infinity (2.5 -> 3, -2.5 -> -2)."""
    return int(math.floor(x + 0.5))


def _number(call: FunctionCall, v: Any, what: str) -> int | float:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise _fail(call, f"{what} must be a number, got {_show(v)}")
    return v


def _show(v: Any) -> str:
    return to_compact_json(v)


# -- functions ------------------------------------------------------------------


def format_value(value: Any) -> str:
    """How States.Format renders a value: strings bare, JSON scalars as JSON, objects Java-style."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def _format(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    template = call.args[0]
    # The template may also come from a path or a variable ("States.Format($AnswerTemplate, ...)" runs on AWS,
    # recorded by LocalStack): its value is used as it is, only a literal's escapes are read.
    literal = isinstance(template, StringArg)
    _need(call, literal or isinstance(args[0], str), f"the first argument must be a string, got {_show(args[0])}")
    raw = template.raw if isinstance(template, StringArg) else args[0]
    values = args[1:]
    out: list[str] = []
    i = used = 0
    while i < len(raw):
        ch = raw[i]
        if literal and ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
            continue
        if raw.startswith("{}", i):
            _need(call, used < len(values), "the template has more placeholders than values")
            out.append(format_value(values[used]))
            used += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    _need(call, used == len(values), "the number of values differs from the number of placeholders")
    return "".join(out)


def _string_to_json(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    (text,) = args
    _need(call, isinstance(text, str), f"the argument must be a string, got {_show(text)}")
    if text.strip() == "":
        return None
    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise _fail(call, f"'{text}' is not valid JSON") from exc


def _json_to_string(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    _need(call, isinstance(call.args[0], PathArg), "the argument must be a path")
    return to_compact_json(args[0])


def _array(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    return list(args)


def _array_partition(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    arr, size = args
    _need(call, isinstance(arr, list), f"the first argument must be an array, got {_show(arr)}")
    _need(call, _is_int_like(size) and size > 0, f"the chunk size must be a positive integer, got {_show(size)}")
    n = int(size)
    return [arr[i:i + n] for i in range(0, len(arr), n)]


def _json_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_eq(a[k], b[k]) for k in a)
    return bool(a == b) and (isinstance(a, (int, float)) == isinstance(b, (int, float)))


def _array_contains(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    arr, value = args
    _need(call, isinstance(arr, list), f"the first argument must be an array, got {_show(arr)}")
    return any(_json_eq(x, value) for x in arr)


def _array_range(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    for v in args:
        _need(call, _is_int_like(v), f"the arguments must be integers, got {_show(v)}")
    start, end, step = (int(v) for v in args)
    _need(call, step != 0, "the step cannot be 0")
    stop = end + (1 if step > 0 else -1)
    count = max(0, len(range(start, stop, step)))
    _need(call, count <= MAX_RANGE_ITEMS, f"the range would have {count} items, more than {MAX_RANGE_ITEMS}")
    return list(range(start, stop, step))


def _array_get_item(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    arr, index = args
    _need(call, isinstance(arr, list), f"the first argument must be an array, got {_show(arr)}")
    _need(call, _is_int_like(index) and index >= 0, f"the index must be a non-negative integer, got {_show(index)}")
    i = int(index)
    _need(call, i < len(arr), f"the index {i} is out of bounds for an array of {len(arr)}")
    return arr[i]


def _array_length(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    (arr,) = args
    _need(call, isinstance(arr, list), f"the argument must be an array, got {_show(arr)}")
    return len(arr)


def _array_unique(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    (arr,) = args
    _need(call, isinstance(arr, list), f"the argument must be an array, got {_show(arr)}")
    out: list[Any] = []
    for item in arr:
        if not any(_json_eq(item, seen) for seen in out):
            out.append(item)
    return out


def _base64_encode(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    (text,) = args
    _need(call, isinstance(text, str), f"the argument must be a string, got {_show(text)}")
    _need(call, len(text) <= MAX_TEXT, f"the input is longer than {MAX_TEXT} characters")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    (text,) = args
    _need(call, isinstance(text, str), f"the argument must be a string, got {_show(text)}")
    _need(call, len(text) <= MAX_TEXT, f"the input is longer than {MAX_TEXT} characters")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError) as exc:
        raise _fail(call, f"'{text}' is not valid base64") from exc


def _hash(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    data, algorithm = args
    _need(call, isinstance(algorithm, str) and algorithm in HASH_ALGORITHMS,
          f"the algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {_show(algorithm)}")
    text = data if isinstance(data, str) else to_compact_json(data)
    _need(call, len(text) <= MAX_TEXT, f"the input is longer than {MAX_TEXT} characters")
    import hashlib  # loads OpenSSL: only when a definition hashes, not on every start

    return hashlib.new(HASH_ALGORITHMS[algorithm], text.encode("utf-8")).hexdigest()


def _json_merge(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    a, b, deep = args
    _need(call, isinstance(a, dict) and isinstance(b, dict), "the first two arguments must be objects")
    _need(call, deep is False, "deep merging is not supported; the third argument must be false")
    merged = dict(a)
    merged.update(b)
    return merged


def _math_random(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    start = _java_round(_number(call, args[0], "the start"))
    end = _java_round(_number(call, args[1], "the end"))
    _need(call, start < end, "the start must be less than the end")
    if len(args) == 3:
        seed = _java_round(_number(call, args[2], "the seed"))
        return random.Random(seed).randrange(start, end)
    return ctx.rng.randrange(start, end)


def _math_add(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    a = _java_round(_number(call, args[0], "the first value"))
    b = _java_round(_number(call, args[1], "the second value"))
    return a + b


def _string_split(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    text, delimiters = args
    _need(call, isinstance(text, str) and isinstance(delimiters, str), "both arguments must be strings")
    if not delimiters:
        return [text] if text else []
    parts = re.split("[" + re.escape(delimiters) + "]", text)
    return [p for p in parts if p != ""]


def _uuid(call: FunctionCall, args: list[Any], ctx: IntrinsicContext) -> Any:
    return ctx.new_uuid()


Impl = Callable[[FunctionCall, list[Any], IntrinsicContext], Any]

FUNCTIONS: Final[dict[str, Impl]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}

ARITY: Final[dict[str, Arity]] = {
    "States.Format": Arity(1, None),
    "States.StringToJson": Arity(1, 1),
    "States.JsonToString": Arity(1, 1),
    "States.Array": Arity(0, None),
    "States.ArrayPartition": Arity(2, 2),
    "States.ArrayContains": Arity(2, 2),
    "States.ArrayRange": Arity(3, 3),
    "States.ArrayGetItem": Arity(2, 2),
    "States.ArrayLength": Arity(1, 1),
    "States.ArrayUnique": Arity(1, 1),
    "States.Base64Encode": Arity(1, 1),
    "States.Base64Decode": Arity(1, 1),
    "States.Hash": Arity(2, 2),
    "States.JsonMerge": Arity(3, 3),
    "States.MathRandom": Arity(2, 3),
    "States.MathAdd": Arity(2, 2),
    "States.StringSplit": Arity(2, 2),
    "States.UUID": Arity(0, 0),
}
