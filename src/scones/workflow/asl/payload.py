"""Payload templates of JSONPath states: ``Parameters``, ``ResultSelector``, ``ItemSelector``, ``Assign``.

"A key ending in .$ has a value that is a path (or an intrinsic function); the
key without the .$ is set to what the path selects" (ASL spec). A template is
compiled once into a tree; a template without any ``.$`` key is a constant and
costs nothing per use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import JsonPath, PathNotFound, Root, resolve
from scones.workflow.asl.variables import UndefinedVariable

if TYPE_CHECKING:
    from scones.workflow.asl.intrinsics import FunctionCall


class Template:
    dynamic: bool = True

    def eval(self, frame: Frame, data: Any) -> Any:
        raise NotImplementedError


class Const(Template):
    __slots__ = ("value",)
    dynamic = False

    def __init__(self, value: Any) -> None:
        self.value = value

    def eval(self, frame: Frame, data: Any) -> Any:
        return self.value


class ObjectTemplate(Template):
    __slots__ = ("entries",)

    def __init__(self, entries: list[tuple[str, Template]]) -> None:
        self.entries = entries

    def eval(self, frame: Frame, data: Any) -> Any:
        return {key: t.eval(frame, data) for key, t in self.entries}


class ArrayTemplate(Template):
    __slots__ = ("items",)

    def __init__(self, items: list[Template]) -> None:
        self.items = items

    def eval(self, frame: Frame, data: Any) -> Any:
        return [t.eval(frame, data) for t in self.items]


class PathValue(Template):
    __slots__ = ("path", "field")

    def __init__(self, path: JsonPath, field: str) -> None:
        self.path = path
        self.field = field

    def eval(self, frame: Frame, data: Any) -> Any:
        path = self.path
        try:
            # Input and context paths (nearly all of them) need no variable scope built per evaluation.
            if path.root is Root.INPUT:
                return path.select(data)
            if path.root is Root.CONTEXT:
                return path.select(frame.context_object)
            return resolve(path, frame.scope(data))
        except PathNotFound as exc:
            shown = data if self.path.root is Root.INPUT else (
                frame.context_object if self.path.root is Root.CONTEXT else None)
            raise path_not_found(frame, self.path.text, self.field, shown) from exc
        except UndefinedVariable as exc:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The JSONPath '{self.path.text}' specified for the field "
                f"'{self.field}' references the undefined variable '{exc.name}'") from exc


class IntrinsicValue(Template):
    __slots__ = ("call", "field")

    def __init__(self, call: FunctionCall, field: str) -> None:
        self.call = call
        self.field = field

    def eval(self, frame: Frame, data: Any) -> Any:
        try:
            return self.call.eval(frame.scope(data), frame.execution.intrinsics)
        except PathNotFound as exc:
            raise path_not_found(frame, str(exc.path), self.field, data) from exc
        except UndefinedVariable as exc:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The function '{self.call.text}' references the undefined "
                f"variable '{exc.name}'") from exc
        except FailureError as exc:
            failure = exc.failure
            raise FailureError.of(failure.error or StatesError.INTRINSIC_FAILURE.value,
                                  f"{frame.error_prefix()} {failure.cause}") from exc


def path_not_found(frame: Frame, path: str, field: str, shown: Any) -> FailureError:
    """States.Runtime for a JSONPath that selects nothing, worded as AWS words it."""
    return FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} The JSONPath '{path}' specified for the "
                                                f"field '{field}' could not be found in the input "
                                                f"'{to_compact_json(shown)}'")


def compile_template(value: Any) -> Template:
    """Compile a payload template (syntax was checked by the validator)."""
    if isinstance(value, dict):
        entries: list[tuple[str, Template]] = []
        for key, sub in value.items():
            if key.endswith(".$") and isinstance(sub, str):
                name = key[:-2]
                if sub.startswith("$"):
                    entries.append((name, PathValue(JsonPath(sub), key)))
                else:
                    from scones.workflow.asl.intrinsics import parse_intrinsic  # only definitions that use them

                    entries.append((name, IntrinsicValue(parse_intrinsic(sub), key)))
            else:
                entries.append((key, compile_template(sub)))
        if not any(t.dynamic for _, t in entries):
            return Const(value)
        return ObjectTemplate(entries)
    if isinstance(value, list):
        items = [compile_template(v) for v in value]
        if not any(t.dynamic for t in items):
            return Const(value)
        return ArrayTemplate(items)
    return Const(value)
