"""JSONPath as the States Language uses it: Paths, Reference Paths, ``$$`` and ``$variable``.

"A Path is a string, beginning with '$', used to identify components with a
JSON text" (ASL spec). A path is compiled once, when the definition is parsed,
into a tuple of steps; evaluation walks them. A *definite* path (names and
indices only) yields one value or fails; an indefinite one (wildcards, slices,
unions, filters, ``..``) yields the list of matches, as Jayway JsonPath (the
engine AWS uses) does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

_NAME_START: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING: Final = object()
_WORD_OPERATOR: Final = re.compile(r"(nin|in)\b")


class PathSyntaxError(ValueError):
    """The text is not a JSONPath the States Language accepts."""


class PathNotFound(LookupError):
    """A definite path names a node that is not in the data."""

    def __init__(self, path: str, normalized: str) -> None:
        super().__init__(path)
        self.path = path
        self.normalized = normalized


class Root(Enum):
    INPUT = "$"
    CONTEXT = "$$"
    VARIABLE = "$var"


# -- steps -------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    key: str

    def normalized(self) -> str:
        return f"['{self.key}']"


@dataclass(frozen=True)
class Index:
    index: int

    def normalized(self) -> str:
        return f"[{self.index}]"


@dataclass(frozen=True)
class Wildcard:
    def normalized(self) -> str:
        return "[*]"


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None
    step: int | None

    def normalized(self) -> str:
        parts = ["" if v is None else str(v) for v in (self.start, self.stop)]
        return f"[{':'.join(parts)}]"


@dataclass(frozen=True)
class Union:
    members: tuple[str | int, ...]

    def normalized(self) -> str:
        return "[" + ",".join(f"'{m}'" if isinstance(m, str) else str(m) for m in self.members) + "]"


@dataclass(frozen=True)
class Descend:
    """``..name`` / ``..*``: the step applied to every node below (and at) the current one."""

    inner: Name | Wildcard | Index | Union | Slice | Filter

    def normalized(self) -> str:
        return ".." + self.inner.normalized()


@dataclass(frozen=True)
class Length:
    """Jayway's ``.length()`` function at the end of a path."""

    def normalized(self) -> str:
        return ".length()"


@dataclass(frozen=True)
class Filter:
    expr: FilterExpr
    text: str

    def normalized(self) -> str:
        return f"[?({self.text})]"


Step = Name | Index | Wildcard | Slice | Union | Descend | Filter | Length


# -- filter expressions ([?(...)]) -------------------------------------------


class FilterExpr:
    def eval(self, current: Any, root: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Literal(FilterExpr):
    value: Any

    def eval(self, current: Any, root: Any) -> Any:
        return self.value


@dataclass(frozen=True)
class RelPath(FilterExpr):
    """``@.a.b`` (relative) or ``$.a`` (absolute) inside a filter; missing -> _MISSING."""

    absolute: bool
    steps: tuple[Step, ...]

    def eval(self, current: Any, root: Any) -> Any:
        node = root if self.absolute else current
        matches = _walk([node], self.steps)
        if not matches:
            return _MISSING
        if _is_definite(self.steps):
            return matches[0]
        return matches


@dataclass(frozen=True)
class Not(FilterExpr):
    operand: FilterExpr

    def eval(self, current: Any, root: Any) -> Any:
        return not _truthy(self.operand.eval(current, root))


@dataclass(frozen=True)
class BoolOp(FilterExpr):
    op: str
    left: FilterExpr
    right: FilterExpr

    def eval(self, current: Any, root: Any) -> Any:
        left = _truthy(self.left.eval(current, root))
        if self.op == "&&":
            return left and _truthy(self.right.eval(current, root))
        return left or _truthy(self.right.eval(current, root))


@dataclass(frozen=True)
class Compare(FilterExpr):
    op: str
    left: FilterExpr
    right: FilterExpr

    def eval(self, current: Any, root: Any) -> Any:
        a = self.left.eval(current, root)
        b = self.right.eval(current, root)
        if a is _MISSING or b is _MISSING:
            return self.op == "!=" and not (a is _MISSING and b is _MISSING)
        if self.op == "==":
            return _json_equal(a, b)
        if self.op == "!=":
            return not _json_equal(a, b)
        if self.op == "in":
            return isinstance(b, list) and any(_json_equal(a, x) for x in b)
        if self.op == "nin":
            return isinstance(b, list) and not any(_json_equal(a, x) for x in b)
        if self.op == "=~":
            return isinstance(a, str) and isinstance(b, str) and re.search(b, a) is not None
        comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
        if not comparable:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]


def _truthy(value: Any) -> bool:
    if value is _MISSING:
        return False
    if isinstance(value, bool):
        return value
    return True  # Jayway: an existing node counts as present (even null or 0)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


# -- parsing -----------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> PathSyntaxError:
        return PathSyntaxError(f"{what} at position {self.pos} of '{self.text}'")

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def steps(self, *, stop: str = "") -> tuple[Step, ...]:
        out: list[Step] = []
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            ch = self.text[self.pos]
            if self.text.startswith("..", self.pos):
                self.pos += 2
                if self.peek() == "[":
                    inner = self.bracket()
                elif self.peek() == "*":
                    self.pos += 1
                    inner = Wildcard()
                else:
                    inner = Name(self.dotted_name(stop))
                out.append(Descend(inner))
            elif ch == ".":
                self.pos += 1
                if self.peek() == "*":
                    self.pos += 1
                    out.append(Wildcard())
                elif self.peek() == "[":
                    out.append(self.bracket())
                else:
                    name = self.dotted_name(stop)
                    if name == "length()" and self.pos == len(self.text):
                        out.append(Length())
                    else:
                        out.append(Name(name))
            elif ch == "[":
                out.append(self.bracket())
            else:
                raise self.error(f"unexpected character {ch!r}")
        return tuple(out)

    def dotted_name(self, stop: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ".[" + stop:
            if self.text[self.pos] in " \t" and stop:
                break
            self.pos += 1
        name = self.text[start:self.pos]
        if not name:
            raise self.error("empty name")
        return name

    def bracket(self) -> Name | Index | Wildcard | Slice | Union | Filter:
        assert self.text[self.pos] == "["
        self.pos += 1
        self.skip_ws()
        if self.peek() == "?":
            return self.filter()
        if self.peek() == "*":
            self.pos += 1
            self.expect("]")
            return Wildcard()
        members: list[str | int] = []
        slice_parts: list[int | None] | None = None
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch in ("'", '"'):
                members.append(self.quoted())
            elif ch == ":" or ch == "-" or ch.isdigit():
                num = self.opt_int()
                self.skip_ws()
                if self.peek() == ":":
                    slice_parts = [num]
                    while self.peek() == ":":
                        self.pos += 1
                        self.skip_ws()
                        slice_parts.append(self.opt_int())
                        self.skip_ws()
                    if len(slice_parts) > 3:
                        raise self.error("bad slice")
                    break
                if num is None:
                    raise self.error("expected an index")
                members.append(num)
            else:
                raise self.error("expected an index, a slice or a quoted name")
            self.skip_ws()
            if self.peek() == ",":
                self.pos += 1
                continue
            break
        self.expect("]")
        if slice_parts is not None:
            if members:
                raise self.error("a slice cannot be part of a union")
            parts = slice_parts + [None] * (3 - len(slice_parts))
            if parts[2] == 0:
                raise self.error("slice step cannot be 0")
            return Slice(parts[0], parts[1], parts[2])
        if len(members) == 1:
            m = members[0]
            return Name(m) if isinstance(m, str) else Index(m)
        return Union(tuple(members))

    def opt_int(self) -> int | None:
        m = re.compile(r"-?\d+").match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return int(m.group(0))

    def quoted(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == quote:
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated quoted name")

    def expect(self, ch: str) -> None:
        self.skip_ws()
        if self.peek() != ch:
            raise self.error(f"expected {ch!r}")
        self.pos += 1

    # filter grammar: or := and ('||' and)* ; and := unary ('&&' unary)* ;
    # unary := '!' unary | cmp ; cmp := operand (op operand)?
    def filter(self) -> Filter:
        self.pos += 1  # '?'
        self.expect("(")
        start = self.pos
        expr = self.or_expr()
        text = self.text[start:self.pos].strip()
        self.expect(")")
        self.expect("]")
        return Filter(expr, text)

    def or_expr(self) -> FilterExpr:
        left = self.and_expr()
        while True:
            self.skip_ws()
            if self.peek(2) == "||":
                self.pos += 2
                left = BoolOp("||", left, self.and_expr())
            else:
                return left

    def and_expr(self) -> FilterExpr:
        left = self.unary()
        while True:
            self.skip_ws()
            if self.peek(2) == "&&":
                self.pos += 2
                left = BoolOp("&&", left, self.unary())
            else:
                return left

    def unary(self) -> FilterExpr:
        self.skip_ws()
        if self.peek() == "!" and self.peek(2) != "!=":
            self.pos += 1
            return Not(self.unary())
        left = self.operand()
        self.skip_ws()
        for op in ("==", "!=", "<=", ">=", "=~", "<", ">"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return Compare(op, left, self.operand())
        word = _WORD_OPERATOR.match(self.text, self.pos)
        if word:
            self.pos = word.end()
            return Compare(word.group(1), left, self.operand())
        return left

    def operand(self) -> FilterExpr:
        self.skip_ws()
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            inner = self.or_expr()
            self.expect(")")
            return inner
        if ch == "@" or ch == "$":
            self.pos += 1
            return RelPath(ch == "$", self.steps(stop=" )=!<>&|,]"))
        if ch in ("'", '"'):
            return Literal(self.quoted())
        if ch == "[":
            self.pos += 1
            items: list[Any] = []
            while True:
                lit = self.operand()
                if not isinstance(lit, Literal):
                    raise self.error("only literals in a filter list")
                items.append(lit.value)
                self.skip_ws()
                if self.peek() == ",":
                    self.pos += 1
                    continue
                self.expect("]")
                return Literal(items)
        if ch == "/":
            end = self.text.index("/", self.pos + 1)
            pattern = self.text[self.pos + 1:end]
            self.pos = end + 1
            while self.peek().isalpha():
                self.pos += 1
            return Literal(pattern)
        m = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(self.text, self.pos)
        if not m:
            raise self.error("expected a filter operand")
        self.pos = m.end()
        word = m.group(0)
        if word in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[word])
        return Literal(float(word) if any(c in word for c in ".eE") else int(word))


def _is_definite(steps: tuple[Step, ...]) -> bool:
    return all(isinstance(s, (Name, Index, Length)) for s in steps)


# -- evaluation --------------------------------------------------------------


def _apply(node: Any, step: Step, out: list[Any]) -> None:
    if isinstance(step, Name):
        if isinstance(node, dict) and step.key in node:
            out.append(node[step.key])
    elif isinstance(step, Index):
        if isinstance(node, list):
            i = step.index
            if -len(node) <= i < len(node):
                out.append(node[i])
    elif isinstance(step, Wildcard):
        if isinstance(node, dict):
            out.extend(node.values())
        elif isinstance(node, list):
            out.extend(node)
    elif isinstance(step, Slice):
        if isinstance(node, list):
            out.extend(node[step.start:step.stop:step.step])
    elif isinstance(step, Union):
        for m in step.members:
            if isinstance(m, str):
                if isinstance(node, dict) and m in node:
                    out.append(node[m])
            elif isinstance(node, list) and -len(node) <= m < len(node):
                out.append(node[m])
    elif isinstance(step, Filter):
        items = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else []
        for item in items:
            if _truthy(step.expr.eval(item, item)):
                out.append(item)
    elif isinstance(step, Descend):
        for sub in _descendants(node):
            _apply(sub, step.inner, out)
    elif isinstance(step, Length):
        if isinstance(node, (list, dict, str)):
            out.append(len(node))


def _descendants(node: Any) -> list[Any]:
    out = [node]
    stack = [node]
    while stack:
        cur = stack.pop()
        children = cur.values() if isinstance(cur, dict) else cur if isinstance(cur, list) else ()
        for child in children:
            out.append(child)
            if isinstance(child, (dict, list)):
                stack.append(child)
    return out


def _walk(nodes: list[Any], steps: tuple[Step, ...]) -> list[Any]:
    for step in steps:
        nxt: list[Any] = []
        for node in nodes:
            _apply(node, step, nxt)
        nodes = nxt
    return nodes


class JsonPath:
    """A compiled path: ``$...`` (state data), ``$$...`` (context object) or ``$name...`` (a variable)."""

    __slots__ = ("text", "root", "variable", "steps", "definite", "keys")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.startswith("$"):
            raise PathSyntaxError(f"'{text}' is not a path: a path starts with '$'")
        self.text = text
        self.variable: str | None = None
        if text.startswith("$$"):
            self.root = Root.CONTEXT
            rest = 2
        else:
            m = _NAME_START.match(text, 1)
            if m:
                self.root = Root.VARIABLE
                self.variable = m.group(0)
                rest = m.end()
            else:
                self.root = Root.INPUT
                rest = 1
        parser = _Parser(text)
        parser.pos = rest
        self.steps = parser.steps()
        self.definite = _is_definite(self.steps)
        # The common case, a plain chain of names/indices, takes a fast loop.
        self.keys: tuple[str | int, ...] | None = None
        keys = [s.key if isinstance(s, Name) else s.index for s in self.steps if isinstance(s, (Name, Index))]
        if len(keys) == len(self.steps):
            self.keys = tuple(keys)

    @property
    def is_reference(self) -> bool:
        """A Reference Path identifies a single node: no ``@ , : ?``, wildcards or ``..``."""
        return self.keys is not None

    def normalized(self) -> str:
        prefix = "$$" if self.root is Root.CONTEXT else f"${self.variable}" if self.variable else "$"
        return prefix + "".join(s.normalized() for s in self.steps)

    def select(self, data: Any) -> Any:
        """Apply the steps to ``data`` (already the root node); raise ``PathNotFound`` when absent."""
        keys = self.keys
        if keys is not None:
            node = data
            for key in keys:
                if isinstance(key, str):
                    if type(node) is not dict or key not in node:
                        raise PathNotFound(self.text, self.normalized())
                    node = node[key]
                else:
                    if type(node) is not list or not -len(node) <= key < len(node):
                        raise PathNotFound(self.text, self.normalized())
                    node = node[key]
            return node
        matches = _walk([data], self.steps)
        if self.definite:
            if not matches:
                raise PathNotFound(self.text, self.normalized())
            return matches[0]
        return matches

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"


class PathScope:
    """The three roots a path can start from (a plain slotted class: built on every path evaluation)."""

    __slots__ = ("data", "context", "variables")

    def __init__(self, data: Any, context: Any, variables: Callable[[str], Any]) -> None:
        self.data = data
        self.context = context
        self.variables = variables


def resolve(path: JsonPath, scope: PathScope) -> Any:
    """Evaluate a path against the root it names."""
    if path.root is Root.INPUT:
        return path.select(scope.data)
    if path.root is Root.CONTEXT:
        return path.select(scope.context)
    assert path.variable is not None
    return path.select(scope.variables(path.variable))


def set_at(document: Any, path: JsonPath, value: Any) -> Any:
    """Place ``value`` at a Reference Path inside a copy of ``document`` (ResultPath semantics).

    Missing objects along the way are created; the original document is not
    modified (only the nodes along the path are copied).
    """
    keys = path.keys
    if keys is None:
        raise PathSyntaxError(f"'{path.text}' is not a reference path")
    if not keys:
        return value

    def place(node: Any, i: int) -> Any:
        key = keys[i]
        last = i == len(keys) - 1
        if isinstance(key, str):
            if node is _MISSING:
                node = {}
            elif not isinstance(node, dict):
                raise PathNotFound(path.text, path.normalized())
            new = dict(node)
            new[key] = value if last else place(node.get(key, _MISSING), i + 1)
            return new
        if not isinstance(node, list) or not -len(node) <= key < len(node):
            raise PathNotFound(path.text, path.normalized())
        new_list = list(node)
        new_list[key] = value if last else place(node[key], i + 1)
        return new_list

    return place(document, 0)
