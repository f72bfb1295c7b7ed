"""A state's field, compiled once for its query language: ``compile_field`` is where the two languages part.

JSONata: "a string that starts with ``{%`` and ends with ``%}`` is an
expression", anywhere in the value; everything else is a literal. JSONPath:
a ``...Path`` field holds a path (``ErrorPath`` and ``CausePath`` may hold an
intrinsic function instead), and a payload template's ``.$`` keys select data; the rest
is a literal. A compiled ``Field`` is evaluated the same way in both languages:
``data`` is what ``$`` selects in JSONPath, and JSONata sees ``$states.input``,
``$states.result`` and ``$states.errorOutput``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scones.workflow.asl.context import Frame
from scones.workflow.asl.jsonata_eval import JExpr, JsonataExpression, JTemplate, compile_jsonata_template, to_jsonata
from scones.workflow.asl.paths import JsonPath, resolve
from scones.workflow.asl.payload import Template, compile_template
from scones.workflow.asl.query_language import QueryLanguage

if TYPE_CHECKING:
    from scones.workflow.asl.intrinsics import FunctionCall

#: The JSONPath fields that take an intrinsic function as well as a path ("ErrorPath ... a reference path or an
#: intrinsic function", Fail state docs).
_PATH_OR_INTRINSIC: Final = frozenset({"ErrorPath", "CausePath"})
#: Marks "field absent" where ``None`` (JSON null) is a meaningful value.
ABSENT: Final = object()


def jsonata_bindings(frame: Frame, raw: Any, result: Any = ABSENT, error_output: Any = ABSENT) -> dict[str, Any]:
    """What a JSONata expression sees: ``$states`` and the workflow variables by name."""
    states: dict[str, Any] = {"input": to_jsonata(raw), "context": frame.context_object}
    if result is not ABSENT:
        states["result"] = to_jsonata(result)
    if error_output is not ABSENT:
        states["errorOutput"] = error_output
    bindings = dict(frame.execution.jsonata_functions())
    for name, value in frame.variables.visible().items():
        bindings[name] = to_jsonata(value)
    bindings["states"] = states
    return bindings


class Field(ABC):
    """A compiled field: ``name`` is its key in the state (``SecondsPath``), ``source`` its value there."""

    __slots__ = ("name", "source")
    #: False when the value is the same on every evaluation.
    dynamic: ClassVar[bool] = True

    def __init__(self, name: str, source: Any) -> None:
        self.name = name
        self.source = source

    @abstractmethod
    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        """The field's value; a path that selects nothing raises ``PathNotFound``/``UndefinedVariable``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.source!r})"


class Literal(Field):
    __slots__ = ()
    dynamic = False

    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        return self.source


class JsonataField(Field):
    __slots__ = ("template",)

    def __init__(self, name: str, source: Any, template: JTemplate) -> None:
        super().__init__(name, source)
        self.template = template

    @property
    def expression(self) -> JsonataExpression | None:
        """The expression when the whole value is one ``{% ... %}`` string."""
        return self.template.expression if isinstance(self.template, JExpr) else None

    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        return self.template.eval(jsonata_bindings(frame, state_input, result, error_output), frame.error_prefix())


class PayloadField(Field):
    """A JSONPath payload template (``Parameters``, ``ResultSelector``, ``ItemSelector``, ``Assign``)."""

    __slots__ = ("template",)

    def __init__(self, name: str, source: Any, template: Template) -> None:
        super().__init__(name, source)
        self.template = template

    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        return self.template.eval(frame, data)


class PathField(Field):
    __slots__ = ("path",)

    def __init__(self, name: str, source: Any, path: JsonPath) -> None:
        super().__init__(name, source)
        self.path = path

    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        return resolve(self.path, frame.scope(data))


class IntrinsicField(Field):
    __slots__ = ("call",)

    def __init__(self, name: str, source: Any, call: FunctionCall) -> None:
        super().__init__(name, source)
        self.call = call

    def eval(self, frame: Frame, data: Any, state_input: Any, result: Any = ABSENT,
             error_output: Any = ABSENT) -> Any:
        return self.call.eval(frame.scope(data), frame.execution.intrinsics)


def compile_field(value: Any, language: QueryLanguage, name: str) -> Field:
    """Compile the value of field ``name`` for ``language`` (its syntax was checked by the validator)."""
    if language is QueryLanguage.JSONATA:
        template = compile_jsonata_template(value, name)
        return JsonataField(name, value, template) if template.dynamic else Literal(name, value)
    if name.endswith("Path"):
        if name in _PATH_OR_INTRINSIC and isinstance(value, str) and not value.startswith("$"):
            from scones.workflow.asl.intrinsics import parse_intrinsic  # only definitions that use them

            return IntrinsicField(name, value, parse_intrinsic(value))
        return PathField(name, value, JsonPath(value))
    payload = compile_template(value)
    return PayloadField(name, value, payload) if payload.dynamic else Literal(name, value)


def optional_field(props: Mapping[str, Any], language: QueryLanguage, *names: str) -> Field | None:
    """The first of ``names`` present in ``props``, compiled (``Seconds`` or ``SecondsPath``...); else None."""
    for name in names:
        if name in props:
            return compile_field(props[name], language, name)
    return None
