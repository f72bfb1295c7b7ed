"""``Map``: runs the item processor once per item (inline mode; distributed runs the same way locally)."""

from __future__ import annotations

import json
import math
import threading
import uuid
from typing import Any, ClassVar

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
from scones.workflow.asl.concurrency import run_jobs
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import Field, JsonataField, optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import json_type_name, to_compact_json
from scones.workflow.asl.map_numbers import path_number
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import BuildContext
from scones.workflow.asl.states.execution_state import ExecutionState
from scones.workflow.asl.variables import UndefinedVariable


class MapState(ExecutionState):
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
        self.batcher: dict[str, Any] | None = props.get("ItemBatcher")
        self.batch_input = optional_field(self.batcher or {}, language, "BatchInput")
        self.result_writer: dict[str, Any] | None = props.get("ResultWriter")

    @classmethod
    def build(cls, name: str, props: dict[str, Any], language: QueryLanguage, context: BuildContext) -> MapState:
        processor = props.get("ItemProcessor") or props["Iterator"]
        return cls(name, props, language, context.machine(processor, language))

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
                mode = (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")
                if mode not in ("INLINE", "DISTRIBUTED"):
                    checker.add(SCHEMA, "ProcessorConfig.Mode must be INLINE or DISTRIBUTED", *where, key,
                                "ProcessorConfig", "Mode")
        if "ItemSelector" in props and "Parameters" in props:
            checker.add(SCHEMA, "Only one of \"ItemSelector\" or \"Parameters\" can be present", *where)
        if "ItemsPath" in props:
            checker.path(props["ItemsPath"], (*where, "ItemsPath"), reference=True, nullable=False)
        if "ItemReader" in props:
            checker.add(SCHEMA, "ItemReader (Distributed Map reading from S3) is not supported by the local "
                        "interpreter", *where, "ItemReader")
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
        if "ItemBatcher" in props and not isinstance(props["ItemBatcher"], dict):
            checker.add(SCHEMA, "ItemBatcher must be a JSON object", *where, "ItemBatcher")
        if "ResultWriter" in props:
            writer = props["ResultWriter"]
            if not isinstance(writer, dict) or writer.get("Resource") != "arn:aws:states:::s3:putObject":
                checker.add(SCHEMA, "ResultWriter needs \"Resource\": \"arn:aws:states:::s3:putObject\"", *where,
                            "ResultWriter")

    # -- dynamic numbers -------------------------------------------------------
    @staticmethod
    def _number(frame: Frame, raw: Any, effective: Any, field: Field | None, integer: bool = True) -> Any:
        """The value of a number field, or of its ``...Path`` twin (which must select a non-negative number)."""
        if field is None:
            return None
        try:
            value = field.eval(frame, effective, raw)
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{field.source}' for {field.name}") from exc
        if field.name.endswith("Path"):
            return path_number(frame, field.name, field.source, value)
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

    def _batches(self, frame: Frame, effective: Any, items: list[Any], raw: Any) -> list[Any]:
        assert self.batcher is not None
        # Compiled here, not when the state is built: the validator does not look inside ItemBatcher, and a
        # null counts as absent.
        b = {k: v for k, v in self.batcher.items() if v is not None}
        language = self.language
        max_items = self._number(frame, raw, effective, optional_field(
            b, language, "MaxItemsPerBatchPath", "MaxItemsPerBatch")) or len(items) or 1
        max_bytes = self._number(frame, raw, effective, optional_field(
            b, language, "MaxInputBytesPerBatchPath", "MaxInputBytesPerBatch")) or 262_144
        batch_input = None if self.batch_input is None else self.batch_input.eval(frame, effective, raw)
        batches: list[Any] = []
        current: list[Any] = []
        size = 0
        for item in items:
            item_size = len(to_compact_json(item).encode("utf-8"))
            if current and (len(current) >= max_items or size + item_size > max_bytes):
                batches.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            batches.append(current)
        out = []
        for batch in batches:
            value: dict[str, Any] = {"Items": batch}
            if batch_input is not None:
                value["BatchInput"] = batch_input
            out.append(value)
        return out

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

    def _tolerance(self, frame: Frame, raw: Any, effective: Any, n: int) -> int:
        count = self._number(frame, raw, effective, self.tolerated_count)
        pct = self._number(frame, raw, effective, self.tolerated_percentage, integer=False)
        allowed = -1
        if count is not None:
            allowed = max(allowed, int(count))
        if pct is not None:
            allowed = max(allowed, int(math.floor(float(pct) / 100.0 * n)))
        return allowed

    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        items = self._items(frame, raw, effective)
        if self.batcher is not None:
            items = self._batches(frame, effective, items, raw)
        inputs = [self._item_input(frame, raw, effective, i, item) for i, item in enumerate(items)]
        max_concurrency = self._number(frame, raw, effective, self.max_concurrency) or 0
        allowed = self._tolerance(frame, raw, effective, len(inputs))
        frame.event(EventType.MAP_STATE_STARTED, {"length": len(inputs)})
        base = {k: v for k, v in frame.context_object.items() if k in ("Execution", "StateMachine")}
        processor = self.processor
        name = self.name
        failures: list[FailureError] = []
        lock = threading.Lock()

        def job(index: int, value: Any) -> Any:
            def run(cancel: threading.Event) -> Any:
                child = frame.child(base)  # never mutated: states copy it on entry
                child.event(EventType.MAP_ITERATION_STARTED, {"name": name, "index": index})
                try:
                    out = processor.run(child, value, cancel)
                except FailureError as exc:
                    child.variables.release()
                    child.event(EventType.MAP_ITERATION_FAILED, {"name": name, "index": index})
                    if allowed >= 0:
                        with lock:
                            failures.append(exc)
                            if len(failures) <= allowed:
                                return exc.failure.as_output()
                        raise FailureError.of(StatesError.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                              "The specified tolerated failure threshold was exceeded") from exc
                    raise
                child.variables.release()
                child.event(EventType.MAP_ITERATION_SUCCEEDED, {"name": name, "index": index})
                return out
            return run

        try:
            results = run_jobs([job(i, v) for i, v in enumerate(inputs)], threaded=processor.may_block(),
                               max_concurrency=int(max_concurrency))
        except FailureError:
            frame.event(EventType.MAP_STATE_FAILED)
            raise
        frame.event(EventType.MAP_STATE_SUCCEEDED)
        if self.result_writer is not None:
            return self._write_results(frame, results)
        return results

    def _write_results(self, frame: Frame, results: list[Any]) -> Any:
        """``ResultWriter``: the results go to the store as JSON; the output says where."""
        writer = self.result_writer or {}
        params = writer.get("Parameters") or writer.get("Arguments") or {}
        store = frame.execution.store
        bucket = params.get("Bucket", "")
        prefix = str(params.get("Prefix", "")).strip("/")
        if store is None:
            raise FailureError.of(StatesError.RESULT_WRITER_FAILED,
                                  "No store is configured for this execution, so the Map results cannot be written")
        run_id = str(uuid.uuid4())
        base = "/".join(p for p in (bucket, prefix, run_id) if p)
        key = f"{base}/SUCCEEDED_0.json"
        store.put_text(key, json.dumps(results, separators=(",", ":")))
        manifest_key = f"{base}/manifest.json"
        manifest = {"DestinationBucket": bucket, "MapRunArn": f"{frame.execution.state_machine_arn}/{run_id}",
                    "ResultFiles": {"SUCCEEDED": [{"Key": key, "Size": len(results)}], "FAILED": [], "PENDING": []}}
        store.put_text(manifest_key, json.dumps(manifest, separators=(",", ":")))
        return {"MapRunArn": manifest["MapRunArn"],
                "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}

    def may_block(self) -> bool:
        return self.processor.may_block()
