"""JSONata expressions (``{% ... %}``) for states in JSONata mode, through ``jsonata-python``.

The reserved variable ``$states`` carries ``input``, ``result``, ``errorOutput``
and ``context``; workflow variables are bound by name. AWS's extension
functions (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``,
``$parse``) are bound per evaluation, never registered globally. Compiled
expressions are cached per thread because the library's evaluator keeps
per-instance state.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import random
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Final

from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsontext import to_compact_json

_UNDEFINED: Final = object()


@functools.cache
def _lib() -> Any:
    """The jsonata package, imported on first use: JSONPath-only runs never pay for it.

    Imported by name because the package ships no type information: its objects are ``Any`` here.
    """
    return importlib.import_module("jsonata")


@functools.cache
def _null() -> Any:
    return importlib.import_module("jsonata.utils").Utils.NULL_VALUE


def _jexception(message: str) -> Exception:
    error: Exception = importlib.import_module("jsonata.jexception").JException(message, 0)
    return error


_LOCAL = threading.local()
_HASH: Final = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


class JsonataSyntaxError(ValueError):
    pass


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and len(value) >= 4


def strip_delimiters(value: str) -> str:
    return value[2:-2].strip()


def check_syntax(text: str) -> None:
    try:
        _lib().Jsonata(text)
    except Exception as exc:  # JException, and plain errors for some malformed input
        raise JsonataSyntaxError(f"{exc}") from exc


def _compiled(text: str) -> Any:
    cache: dict[str, Any] | None = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = {}
    expr = cache.get(text)
    if expr is None:
        expr = _lib().Jsonata(text)
        expr.set_output_convert_nulls(False)
        cache[text] = expr
    return expr


def to_jsonata(value: Any) -> Any:
    """Top-level None must be bound as JSONata ``null`` (a bare None would be 'undefined')."""
    return _null() if value is None else value


def from_jsonata(value: Any) -> Any:
    """Plain JSON values from the library's sequences and null marker; functions raise TypeError."""
    if value is _null():
        return None
    if isinstance(value, list):
        return [from_jsonata(v) for v in value]
    if isinstance(value, dict):
        return {k: from_jsonata(v) for k, v in value.items()}
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise TypeError("number")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(type(value).__name__)


class _Extensions:
    """AWS's JSONata functions for one execution (randomness is injectable)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def partition(self, array: Any, size: Any) -> Any:
        if not isinstance(array, list) or not isinstance(size, (int, float)) or size <= 0 or int(size) != size:
            raise _jexception("$partition expects an array and a positive integer size")
        n = int(size)
        items = list(array)
        return [items[i:i + n] for i in range(0, len(items), n)]

    def range_(self, start: Any, end: Any, step: Any) -> Any:
        for v in (start, end, step):
            if not isinstance(v, (int, float)) or int(v) != v:
                raise _jexception("$range expects integer arguments")
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise _jexception("$range step cannot be 0")
        values = list(range(start, end + (1 if step > 0 else -1), step))
        if len(values) > 1000:
            raise _jexception("$range would return more than 1000 items")
        # AWS returns a JSONata sequence: a single value is not wrapped in an array.
        return values[0] if len(values) == 1 else values

    def hash_(self, value: Any, algorithm: Any) -> Any:
        if algorithm not in _HASH:
            raise _jexception(f"$hash algorithm must be one of {', '.join(_HASH)}")
        text = value if isinstance(value, str) else to_compact_json(from_jsonata(value))
        import hashlib  # loads OpenSSL: only when a definition hashes

        return hashlib.new(_HASH[algorithm], text.encode("utf-8")).hexdigest()

    def random_(self, *seed: Any) -> Any:
        if seed and seed[0] is not None:
            return random.Random(seed[0]).random()
        return self.rng.random()

    def uuid_(self) -> Any:
        return str(uuid.uuid4())

    def parse(self, text: Any) -> Any:
        if not isinstance(text, str):
            raise _jexception("$parse expects a string")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _jexception(f"$parse could not parse the string: {exc}") from exc

    def bindings(self) -> dict[str, Any]:
        lam = _lib().Jsonata.JLambda
        return {"partition": lam(self.partition), "range": lam(self.range_), "hash": lam(self.hash_),
                "random": lam(self.random_), "uuid": lam(self.uuid_), "parse": lam(self.parse)}


def extensions(rng: random.Random) -> dict[str, Any]:
    return _Extensions(rng).bindings()


class JsonataExpression:
    """One ``{% ... %}`` expression, located by the field it appears in (``Output/result``)."""

    __slots__ = ("text", "field")

    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field

    def evaluate(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        expr = _compiled(self.text)
        try:
            raw = expr.evaluate(None, bindings)
        except _lib().jexception.JException as exc:
            code = getattr(exc, "error", None)
            detail = f"{code}: {exc}" if code and not str(exc).startswith(str(code)) else str(exc)
            raise FailureError.of(
                StatesError.QUERY_EVALUATION_ERROR,
                f"{error_prefix} The JSONata expression '{self.text}' specified for the field '{self.field}' "
                f"threw an error during evaluation. {detail}") from exc
        except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            raise FailureError.of(
                StatesError.QUERY_EVALUATION_ERROR,
                f"{error_prefix} The JSONata expression '{self.text}' specified for the field '{self.field}' "
                f"threw an error during evaluation. {exc}") from exc
        if raw is None:
            raise FailureError.of(
                StatesError.QUERY_EVALUATION_ERROR,
                f"{error_prefix} The JSONata expression '{self.text}' specified for the field '{self.field}' "
                f"returned nothing (undefined).")
        try:
            return from_jsonata(raw)
        except TypeError as exc:
            raise FailureError.of(
                StatesError.QUERY_EVALUATION_ERROR,
                f"{error_prefix} The JSONata expression '{self.text}' specified for the field '{self.field}' "
                f"returned an unsupported result type.") from exc


class JTemplate:
    dynamic = True

    def eval(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        raise NotImplementedError


class JConst(JTemplate):
    dynamic = False

    def __init__(self, value: Any) -> None:
        self.value = value

    def eval(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        return self.value


class JExpr(JTemplate):
    def __init__(self, expression: JsonataExpression) -> None:
        self.expression = expression

    def eval(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        return self.expression.evaluate(bindings, error_prefix)


class JObject(JTemplate):
    def __init__(self, entries: list[tuple[str, JTemplate]]) -> None:
        self.entries = entries

    def eval(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        return {k: t.eval(bindings, error_prefix) for k, t in self.entries}


class JArray(JTemplate):
    def __init__(self, items: list[JTemplate]) -> None:
        self.items = items

    def eval(self, bindings: Mapping[str, Any], error_prefix: str) -> Any:
        return [t.eval(bindings, error_prefix) for t in self.items]


def compile_jsonata_template(value: Any, field: str) -> JTemplate:
    """Strings of the form ``{% expr %}`` anywhere in the value become expressions."""
    if is_expression(value):
        return JExpr(JsonataExpression(strip_delimiters(value), field))
    if isinstance(value, dict):
        entries = [(k, compile_jsonata_template(v, f"{field}/{k}")) for k, v in value.items()]
        return JObject(entries) if any(t.dynamic for _, t in entries) else JConst(value)
    if isinstance(value, list):
        items = [compile_jsonata_template(v, f"{field}[{i}]") for i, v in enumerate(value)]
        return JArray(items) if any(t.dynamic for t in items) else JConst(value)
    return JConst(value)
