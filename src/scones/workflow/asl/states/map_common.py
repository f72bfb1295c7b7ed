"""What the two kinds of ``Map`` share: their fields, the validation, the items, ``ItemSelector`` and
the number fields with their ``...Path`` twins. ``MapState`` (inline) and ``DistributedMapState`` build on it."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from scones.workflow.asl.checks import (
    COMMON,
    ERRORS,
    FLOW,
    JSONPATH_IO,
    SCHEMA,
    Checker,
    FieldTable,
    Where,
    expression_allowed,
    is_int,
    number_problem,
)
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import Field, JsonataField, optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import json_type_name, to_compact_json
from scones.workflow.asl.map_numbers import path_number
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.execution_state import ExecutionState
from scones.workflow.asl.variables import UndefinedVariable

#: "Label ... up to 40 characters ... must not contain whitespace, brackets, wildcards, special or
#: control characters" (developer guide, Map state in Distributed mode); the execution names' rules.
LABEL_PATTERN: Final = re.compile(r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,40}")
#: The cause AWS gives when a Map fails on its tolerated failure threshold (both modes).
THRESHOLD_CAUSE: Final = "The specified tolerated failure threshold was exceeded"


class MapCommon(ExecutionState):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | FLOW | ERRORS | {
            "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "ItemReader", "ItemBatcher",
            "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount",
            "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label",
            "ResultPath", "ResultSelector", "Assign"},
        QueryLanguage.JSONATA: COMMON | FLOW | ERRORS | {
            "ItemProcessor", "Iterator", "Items", "ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter",
            "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label", "Output", "Assign"},
    }
    entered_event = EventType.MAP_STATE_ENTERED
    exited_event = EventType.MAP_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage, processor: StateMachine) -> None:
        super().__init__(name, props, language)
        self.processor = processor
        self.items = optional_field(props, language, "Items", "ItemsPath")
        # "Parameters" is the ItemSelector's former name.
        self.selector = optional_field(props, language, "ItemSelector", "Parameters")
        # A number field or its ...Path twin (the path counts when both are present).
        self.max_concurrency = optional_field(props, language, "MaxConcurrencyPath", "MaxConcurrency")
        self.tolerated_count = optional_field(props, language, "ToleratedFailureCountPath", "ToleratedFailureCount")
        self.tolerated_percentage = optional_field(props, language, "ToleratedFailurePercentagePath",
                                                   "ToleratedFailurePercentage")

    def may_block(self) -> bool:
        return self.processor.may_block()

    @classmethod
    def _validate_work(cls, checker: Checker, props: dict[str, Any], where: Where, language: QueryLanguage) -> None:
        has_processor, has_iterator = "ItemProcessor" in props, "Iterator" in props
        if has_processor == has_iterator:
            checker.add(SCHEMA, "Exactly one of \"ItemProcessor\" or \"Iterator\" is required", *where)
        else:
            key = "ItemProcessor" if has_processor else "Iterator"
            processor = props[key]
            checker.machine(processor, (*where, key), language, top=False)
            if isinstance(processor, dict):
                cls._validate_processor_config(checker, props, processor.get("ProcessorConfig"),
                                               (*where, key, "ProcessorConfig"), where)
        if "ItemSelector" in props and "Parameters" in props:
            checker.add(SCHEMA, "Only one of \"ItemSelector\" or \"Parameters\" can be present", *where)
        if "ItemsPath" in props:
            checker.path(props["ItemsPath"], (*where, "ItemsPath"), reference=True, nullable=False)
        if "ItemReader" in props:
            from scones.workflow.asl.distributed.item_reader import ItemReader  # only Distributed Maps pay for it

            ItemReader.validate(checker, props["ItemReader"], (*where, "ItemReader"), language)
        for key in ("MaxConcurrency", "ToleratedFailureCount"):
            if key in props and not expression_allowed(props[key], language) and (
                    not is_int(props[key]) or props[key] < 0):
                checker.add(SCHEMA, number_problem(props[key], f"{key} must be a non-negative integer"), *where, key)
            if key in props and key + "Path" in props:
                checker.add(SCHEMA, f"Only one of \"{key}\" or \"{key}Path\" can be present", *where)
        pct = props.get("ToleratedFailurePercentage")
        if pct is not None and not expression_allowed(pct, language) and (
                isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100):
            checker.add(SCHEMA, "ToleratedFailurePercentage must be a number between 0 and 100", *where,
                        "ToleratedFailurePercentage")
        for key in ("MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"):
            if key in props:
                checker.path(props[key], (*where, key), reference=True, nullable=False)
        if "ItemBatcher" in props:
            from scones.workflow.asl.distributed.batcher import ItemBatcher

            ItemBatcher.validate(checker, props["ItemBatcher"], (*where, "ItemBatcher"), language)
        if "ResultWriter" in props:
            from scones.workflow.asl.distributed.result_writer import ResultWriter

            ResultWriter.validate(checker, props["ResultWriter"], (*where, "ResultWriter"), language)
        label = props.get("Label")
        if label is not None and (not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label)):
            checker.add(SCHEMA, "Label must be 1 to 40 characters, without whitespace, brackets, wildcards or "
                        "special characters", *where, "Label")

    @staticmethod
    def _validate_processor_config(checker: Checker, props: dict[str, Any], config: Any, where: Where,
                                   state: Where) -> None:
        if config is None:
            config = {}
        if not isinstance(config, dict):
            checker.add(SCHEMA, "ProcessorConfig must be a JSON object", *where)
            return
        mode = config.get("Mode", "INLINE")
        if mode not in ("INLINE", "DISTRIBUTED"):
            checker.add(SCHEMA, "ProcessorConfig.Mode must be INLINE or DISTRIBUTED", *where, "Mode")
            return
        if mode == "DISTRIBUTED":
            if config.get("ExecutionType") not in ("STANDARD", "EXPRESS"):
                checker.add(SCHEMA, "ProcessorConfig.ExecutionType must be STANDARD or EXPRESS in DISTRIBUTED "
                            "mode", *where, "ExecutionType")
            return
        if "ExecutionType" in config:
            checker.add(SCHEMA, "ProcessorConfig.ExecutionType is only supported in DISTRIBUTED mode", *where,
                        "ExecutionType")
        # Developer guide, "Map state in Distributed mode": these fields belong to it alone.
        for key in ("ItemReader", "ItemBatcher", "ResultWriter", "Label"):
            if key in props:
                checker.add(SCHEMA, f"The field \"{key}\" is only supported in DISTRIBUTED mode", *state, key)

    # -- dynamic numbers -------------------------------------------------------
    @staticmethod
    def _number(frame: Frame, raw: Any, effective: Any, field: Field | None) -> Any:
        """The value of a number field, or of its ``...Path`` twin (which must select a non-negative number);
        a JSONata expression's value must be what the field's literal must be."""
        if field is None:
            return None
        try:
            value = field.eval(frame, effective, raw)
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{field.source}' for {field.name}") from exc
        if field.name.endswith("Path"):
            return path_number(frame, field.name, field.source, value)
        if isinstance(field, JsonataField):  # a literal was checked with the definition; an expression's result not
            return _expression_number(frame, field, value)
        return value

    def _items(self, frame: Frame, raw: Any, effective: Any) -> list[Any]:
        items = self.items
        if items is None:
            value = effective
        else:
            try:
                value = items.eval(frame, effective, raw)
            except PathNotFound as exc:
                raise FailureError.of(StatesError.RUNTIME,
                                      f"{frame.error_prefix()} Invalid path '{items.source}' : No results "
                                      f"for path: {exc.normalized}") from exc
            except UndefinedVariable as exc:
                raise FailureError.of(StatesError.RUNTIME,
                                      f"{frame.error_prefix()} The variable '{exc.name}' is not defined") from exc
            expression = items.expression if isinstance(items, JsonataField) else None
            if expression is not None and not isinstance(value, list):
                raise FailureError.of(
                    StatesError.QUERY_EVALUATION_ERROR,
                    f"{frame.error_prefix()} The JSONata expression '{expression.text}' specified for the field "
                    f"'Items' returned an unexpected result type. Expected 'array', but was "
                    f"'{json_type_name(value)}' for value: {to_compact_json(value)}")
        if not isinstance(value, list):
            raise FailureError.of(self.language.evaluation_error,
                                  f"{frame.error_prefix()} Map state input must be an array but was: "
                                  f"{to_compact_json(value)}")
        return value

    def _item_input(self, frame: Frame, raw: Any, effective: Any, index: int, item: Any) -> Any:
        if self.selector is None:
            return item
        co = dict(frame.context_object)
        co["Map"] = {"Item": {"Index": index, "Value": item}}
        saved = frame.context_object
        frame.context_object = co
        try:
            return self.selector.eval(frame, effective, raw)
        finally:
            frame.context_object = saved


def _expression_number(frame: Frame, field: JsonataField, value: Any) -> int | float:
    """A number field's JSONata value, held to the definition check's rules (a non-negative integer; a
    percentage from 0 to 100), so a wrong one fails the state instead of the interpreter. Our wording:
    AWS's cause for this case is not recorded."""
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    if field.name == "ToleratedFailurePercentage":
        if number and 0 <= value <= 100:
            return float(value)
        rule = "a number between 0 and 100"
    else:
        if number and value >= 0 and float(value).is_integer():
            return int(value)
        rule = "a non-negative integer"
    raise FailureError.of(StatesError.QUERY_EVALUATION_ERROR,
                          f"{frame.error_prefix()} The JSONata expression '{field.source}' specified for the field "
                          f"'{field.name}' returned {to_compact_json(value)}; {field.name} must be {rule}")
