"""Input and output processing of a state, written once for both query languages.

JSONPath: ``InputPath`` -> ``Parameters`` -> (work) -> ``ResultSelector`` ->
``ResultPath`` -> ``OutputPath``. JSONata: ``Arguments`` -> (work) -> ``Output``,
with ``$states.input/result/errorOutput/context``. The validator lets each state
carry only its own language's fields, and each field is compiled for that
language (``fields.compile_field``), so one ``Flow`` serves both: an absent
step passes the value through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import ABSENT, Field, optional_field
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import JsonPath, PathNotFound, Root, resolve, set_at
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.variables import UndefinedVariable, assignment_size_problem

if TYPE_CHECKING:
    from scones.workflow.asl.error_handling import Catcher

#: ``InputPath``, ``OutputPath`` and ``ResultPath``: absent, null or a path.
PathSpec = JsonPath | None | object


def path_spec(props: dict[str, Any], key: str) -> PathSpec:
    if key not in props:
        return ABSENT
    value = props[key]
    return None if value is None else JsonPath(value)


def _runtime(frame: Frame, message: str) -> FailureError:
    return FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} {message}")


class Flow:
    """``InputPath``/``Parameters``/``Arguments``/``ResultSelector``/``ResultPath``/``OutputPath``/``Output``
    and ``Assign``."""

    __slots__ = ("input_path", "output_path", "result_path", "parameters", "result_selector", "assign", "output_field")

    def __init__(self, props: dict[str, Any], language: QueryLanguage) -> None:
        self.input_path = path_spec(props, "InputPath")
        self.output_path = path_spec(props, "OutputPath")
        self.result_path = path_spec(props, "ResultPath")
        self.parameters = optional_field(props, language, "Parameters", "Arguments")
        self.result_selector = optional_field(props, language, "ResultSelector")
        self.assign = optional_field(props, language, "Assign")
        self.output_field = optional_field(props, language, "Output")

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
        return self.parameters.eval(frame, effective, raw)

    def select_result(self, frame: Frame, raw: Any, result: Any) -> Any:
        if self.result_selector is None:
            return result
        return self.result_selector.eval(frame, result, raw)

    def assignments(self, frame: Frame, raw: Any, data: Any, result: Any = ABSENT,
                    assign: Field | None | object = ABSENT) -> dict[str, Any] | None:
        """Evaluate ``Assign`` (``$`` = the state's result, or its effective input when it has none)."""
        field = self.assign if assign is ABSENT else assign
        if field is None:
            return None
        assert isinstance(field, Field)
        return check_assignment(frame, field.eval(frame, data if result is ABSENT else result, raw, result))

    def output(self, frame: Frame, raw: Any, effective: Any, result: Any = ABSENT) -> Any:
        if self.output_field is not None:
            return self.output_field.eval(frame, effective, raw, result)
        if result is ABSENT:
            combined = effective
        else:
            combined = self.apply_result_path(frame, raw, result, self.result_path)
        return self._filter(frame, self.output_path, combined)

    def _filter(self, frame: Frame, path: PathSpec, value: Any) -> Any:
        """InputPath and OutputPath: absent or ``$`` keep ``value``, null gives ``{}``, else the selection."""
        if path is ABSENT:
            return value
        if path is None:
            return {}
        assert isinstance(path, JsonPath)
        if path.keys == () and path.root is Root.INPUT:
            return value
        return self._select(frame, path, value)

    def apply_result_path(self, frame: Frame, raw: Any, result: Any, path: PathSpec) -> Any:
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

    def catch_output(self, frame: Frame, raw: Any, error_output: Any, catcher: Catcher) -> Any:
        if catcher.output is not None:
            return catcher.output.eval(frame, error_output, raw, ABSENT, error_output)
        return self.apply_result_path(frame, raw, error_output, catcher.result_path)

    def catch_assignments(self, frame: Frame, raw: Any, error_output: Any, catcher: Catcher) -> dict[str, Any] | None:
        """A catcher's ``Assign``: ``$`` (and ``$states.errorOutput``) is the error output."""
        if catcher.assign is None:
            return None
        return check_assignment(frame, catcher.assign.eval(frame, error_output, raw, ABSENT, error_output))


def check_assignment(frame: Frame, values: Any) -> dict[str, Any]:
    """The values an ``Assign`` produced, within the variable quotas."""
    assert isinstance(values, dict)  # Assign is a JSON object, and so is its value
    problem = assignment_size_problem(values, frame.variables)
    if problem:
        raise FailureError.of(StatesError.DATA_LIMIT_EXCEEDED, f"{frame.error_prefix()} {problem}")
    return values
