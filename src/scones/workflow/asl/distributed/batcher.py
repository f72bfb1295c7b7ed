"""``ItemBatcher``: items grouped into batches, each the input of one child execution.

A child's input is ``{"BatchInput": ..., "Items": [...]}`` (``BatchInput`` only when given;
developer guide, "ItemBatcher (Map)"). A batch closes before it would pass
``MaxItemsPerBatch`` items or ``MaxInputBytesPerBatch`` bytes of JSON input; an
item bigger than the byte limit alone goes in a batch of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from scones.workflow.asl.checks import SCHEMA, Checker, Where, is_int
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.jsonata_eval import is_expression
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.map_numbers import path_number
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.variables import UndefinedVariable

#: "MaxInputBytesPerBatch ... up to 256 KiB" (developer guide), the payload quota of a child's input.
MAX_BATCH_BYTES: Final = 262_144
_FIELDS: Final = frozenset({"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
                            "MaxInputBytesPerBatchPath", "BatchInput"})


@dataclass(frozen=True)
class BatchLimits:
    max_items: int  # 0: no limit
    max_bytes: int
    batch_input: Any  # None when absent


class ItemBatcher:
    def __init__(self, props: dict[str, Any], language: QueryLanguage) -> None:
        present = {k: v for k, v in props.items() if v is not None}  # a null counts as absent
        self.max_items = optional_field(present, language, "MaxItemsPerBatchPath", "MaxItemsPerBatch")
        self.max_bytes = optional_field(present, language, "MaxInputBytesPerBatchPath", "MaxInputBytesPerBatch")
        self.batch_input = optional_field(present, language, "BatchInput")

    @staticmethod
    def validate(checker: Checker, props: Any, where: Where, language: QueryLanguage) -> None:
        if not isinstance(props, dict):
            checker.add(SCHEMA, "ItemBatcher must be a JSON object", *where)
            return
        for key in props:
            if key not in _FIELDS:
                checker.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
            value = props.get(key)
            if value is not None and not is_expression(value) and (not is_int(value) or value < 1):
                checker.add(SCHEMA, f"{key} must be a positive integer", *where, key)
            if value is not None and props.get(key + "Path") is not None:
                checker.add(SCHEMA, f"Only one of \"{key}\" or \"{key}Path\" can be present", *where)
            if props.get(key + "Path") is not None:
                checker.path(props[key + "Path"], (*where, key + "Path"), reference=True, nullable=False)
        if isinstance(props.get("MaxInputBytesPerBatch"), int) and props["MaxInputBytesPerBatch"] > MAX_BATCH_BYTES:
            checker.add(SCHEMA, f"MaxInputBytesPerBatch must be at most {MAX_BATCH_BYTES:,}", *where,
                        "MaxInputBytesPerBatch")
        if "BatchInput" in props:
            if language is QueryLanguage.JSONATA:
                checker.jsonata(props["BatchInput"], (*where, "BatchInput"))
            else:
                checker.template(props["BatchInput"], (*where, "BatchInput"))

    def limits(self, frame: Frame, raw: Any, effective: Any) -> BatchLimits:
        max_items = self._number(frame, raw, effective, self.max_items)
        max_bytes = self._number(frame, raw, effective, self.max_bytes)
        batch_input = None if self.batch_input is None else self.batch_input.eval(frame, effective, raw)
        return BatchLimits(max_items or 0, min(max_bytes or MAX_BATCH_BYTES, MAX_BATCH_BYTES), batch_input)

    @staticmethod
    def _number(frame: Frame, raw: Any, effective: Any, field: Field | None) -> int | None:
        if field is None:
            return None
        try:
            value = field.eval(frame, effective, raw)
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{field.source}' for {field.name}") from exc
        if field.name.endswith("Path"):
            value = path_number(frame, field.name, field.source, value)
        if not is_int(value) or value < 1:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The {field.name} field refers to value \"{to_compact_json(value)}\" "
                f"which is not a valid integer: {field.source}")
        return value


def batches(items: Iterable[Any], limits: BatchLimits) -> Iterator[tuple[int, Any]]:
    """``(number of items, child input)`` per batch, as the items come."""
    head = {} if limits.batch_input is None else {"BatchInput": limits.batch_input}
    # Bytes of ``{"BatchInput":...,"Items":[]}``, then each item adds its JSON and a comma.
    base = len(to_compact_json({**head, "Items": []}).encode("utf-8"))
    current: list[Any] = []
    size = base
    for item in items:
        item_size = len(to_compact_json(item).encode("utf-8")) + (1 if current else 0)
        if current and ((limits.max_items and len(current) >= limits.max_items)
                        or size + item_size > limits.max_bytes):
            yield len(current), {**head, "Items": current}
            current, size = [], base
            item_size -= 1
        current.append(item)
        size += item_size
    if current:
        yield len(current), {**head, "Items": current}
