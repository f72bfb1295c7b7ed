"""Input and output processing, one class per query language.

JSONPath: ``InputPath`` -> ``Parameters`` -> (work) -> ``ResultSelector`` ->
``ResultPath`` -> ``OutputPath``. JSONata: ``Arguments`` -> (work) -> ``Output``,
with ``$states.input/result/errorOutput/context``. A state asks its flow for
each step, so the states themselves are written once for both languages.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsonata_eval import JTemplate, compile_jsonata_template, to_jsonata
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import JsonPath, PathNotFound, Root, resolve, set_at
from scones.workflow.asl.payload import Template, compile_template
from scones.workflow.asl.variables import UndefinedVariable, assignment_size_problem

#: Marks "field absent" where ``None`` (JSON null) is a meaningful value.
ABSENT: Final = object()


class QueryLanguage(str, Enum):
    JSONPATH = "JSONPath"
    JSONATA = "JSONata"


def _runtime(frame: Frame, message: str) -> FailureError:
    return FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} {message}")


class JsonPathFlow:
    """``InputPath``/``Parameters``/``ResultSelector``/``ResultPath``/``OutputPath`` and ``Assign``."""

    language = QueryLanguage.JSONPATH

    def __init__(self, props: dict[str, Any], parameters_field: str = "Parameters") -> None:
        self.input_path = self._path(props, "InputPath")
        self.output_path = self._path(props, "OutputPath")
        self.result_path = self._path(props, "ResultPath")
        params = props.get(parameters_field, ABSENT)
        self.parameters: Template | None = None if params is ABSENT else compile_template(params)
        selector = props.get("ResultSelector", ABSENT)
        self.result_selector: Template | None = None if selector is ABSENT else compile_template(selector)
        assign = props.get("Assign", ABSENT)
        self.assign: Template | None = None if assign is ABSENT else compile_template(assign)

    @staticmethod
    def _path(props: dict[str, Any], key: str) -> JsonPath | None | object:
        if key not in props:
            return ABSENT
        value = props[key]
        return None if value is None else JsonPath(value)

    def _select(self, frame: Frame, path: JsonPath, data: Any) -> Any:
        try:
            return resolve(path, frame.scope(data))
        except PathNotFound as exc:
            raise _runtime(frame, f"Invalid path '{path.text}' : No results for path: {exc.normalized}") from exc
        except UndefinedVariable as exc:
            raise _runtime(frame, f"Invalid path '{path.text}' : The variable '{exc.name}' is not defined") from exc

    def effective_input(self, frame: Frame, raw: Any) -> Any:
        return self._filter(frame, self.input_path, raw)

    def has_parameters(self) -> bool:
        return self.parameters is not None

    def parameters_value(self, frame: Frame, effective: Any, raw: Any) -> Any:
        assert self.parameters is not None
        return self.parameters.eval(frame, effective)

    def select_result(self, frame: Frame, result: Any) -> Any:
        if self.result_selector is None:
            return result
        return self.result_selector.eval(frame, result)

    def assignments(self, frame: Frame, raw: Any, data: Any, result: Any = ABSENT,
                    assign: Template | JTemplate | None | object = ABSENT) -> dict[str, Any] | None:
        """Evaluate ``Assign`` (``$`` = the state's result, or its effective input when it has none)."""
        template = self.assign if assign is ABSENT else assign
        if template is None:
            return None
        assert isinstance(template, Template)
        values = template.eval(frame, data if result is ABSENT else result)
        check_assignment(frame, values)
        return values  # type: ignore[no-any-return]

    def output(self, frame: Frame, raw: Any, effective: Any, result: Any = ABSENT) -> Any:
        if result is ABSENT:
            combined = effective
        else:
            combined = self.apply_result_path(frame, raw, result, self.result_path)
        return self._filter(frame, self.output_path, combined)

    def _filter(self, frame: Frame, path: Any, value: Any) -> Any:
        """InputPath and OutputPath: absent or ``$`` keep ``value``, null gives ``{}``, else the selection."""
        if path is ABSENT:
            return value
        if path is None:
            return {}
        assert isinstance(path, JsonPath)
        if path.keys == () and path.root is Root.INPUT:
            return value
        return self._select(frame, path, value)

    def apply_result_path(self, frame: Frame, raw: Any, result: Any, path: Any) -> Any:
        if path is ABSENT:
            return result
        if path is None:
            return raw
        assert isinstance(path, JsonPath)
        try:
            return set_at(raw, path, result)
        except PathNotFound as exc:
            raise FailureError.of(
                StatesError.RESULT_PATH_MATCH_FAILURE,
                f"{frame.error_prefix()} Unable to apply ResultPath \"{path.text}\" to input "
                f"\"{to_compact_json(raw)}\"") from exc

    def catch_output(self, frame: Frame, raw: Any, error_output: Any, catcher: Any) -> Any:
        return self.apply_result_path(frame, raw, error_output, catcher.result_path)

    def catch_assignments(self, frame: Frame, raw: Any, error_output: Any, catcher: Any) -> dict[str, Any] | None:
        """A catcher's ``Assign``: ``$`` is the error output."""
        if catcher.assign is None:
            return None
        values = catcher.assign.eval(frame, error_output)
        check_assignment(frame, values)
        return values  # type: ignore[no-any-return]


def check_assignment(frame: Frame, values: Any) -> None:
    problem = assignment_size_problem(values, frame.variables) if isinstance(values, dict) else None
    if problem:
        raise FailureError.of(StatesError.DATA_LIMIT_EXCEEDED, f"{frame.error_prefix()} {problem}")


def jsonata_bindings(frame: Frame, raw: Any, result: Any = ABSENT, error_output: Any = ABSENT) -> dict[str, Any]:
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


class JsonataFlow:
    """``Arguments``, ``Output`` and ``Assign`` evaluated as JSONata templates."""

    language = QueryLanguage.JSONATA

    def __init__(self, props: dict[str, Any], parameters_field: str = "Arguments") -> None:
        args = props.get(parameters_field, ABSENT)
        self.arguments: JTemplate | None = None if args is ABSENT else compile_jsonata_template(args, parameters_field)
        output = props.get("Output", ABSENT)
        self.output_template: JTemplate | None = (None if output is ABSENT
                                                  else compile_jsonata_template(output, "Output"))
        assign = props.get("Assign", ABSENT)
        self.assign: JTemplate | None = None if assign is ABSENT else compile_jsonata_template(assign, "Assign")

    def effective_input(self, frame: Frame, raw: Any) -> Any:
        return raw

    def has_parameters(self) -> bool:
        return self.arguments is not None

    def parameters_value(self, frame: Frame, effective: Any, raw: Any) -> Any:
        assert self.arguments is not None
        if not self.arguments.dynamic:
            return self.arguments.eval({}, "")
        return self.arguments.eval(jsonata_bindings(frame, raw), frame.error_prefix())

    def select_result(self, frame: Frame, result: Any) -> Any:
        return result

    def assignments(self, frame: Frame, raw: Any, data: Any, result: Any = ABSENT,
                    assign: Template | JTemplate | None | object = ABSENT) -> dict[str, Any] | None:
        template = self.assign if assign is ABSENT else assign
        if template is None:
            return None
        assert isinstance(template, JTemplate)
        if not template.dynamic:
            values = template.eval({}, "")
        else:
            values = template.eval(jsonata_bindings(frame, raw, result), frame.error_prefix())
        check_assignment(frame, values)
        return values  # type: ignore[no-any-return]

    def output(self, frame: Frame, raw: Any, effective: Any, result: Any = ABSENT) -> Any:
        if self.output_template is None:
            return raw if result is ABSENT else result
        if not self.output_template.dynamic:
            return self.output_template.eval({}, "")
        return self.output_template.eval(jsonata_bindings(frame, raw, result), frame.error_prefix())

    def catch_output(self, frame: Frame, raw: Any, error_output: Any, catcher: Any) -> Any:
        template = catcher.output
        if template is None:
            return error_output
        return template.eval(jsonata_bindings(frame, raw, error_output=error_output), frame.error_prefix())

    def catch_assignments(self, frame: Frame, raw: Any, error_output: Any, catcher: Any) -> dict[str, Any] | None:
        """A catcher's ``Assign`` with ``$states.errorOutput``."""
        if catcher.assign is None:
            return None
        values = catcher.assign.eval(jsonata_bindings(frame, raw, error_output=error_output), frame.error_prefix())
        check_assignment(frame, values)
        return values  # type: ignore[no-any-return]


Flow = JsonPathFlow | JsonataFlow
