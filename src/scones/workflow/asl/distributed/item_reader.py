"""``ItemReader``: the items of a Distributed Map read from the object store instead of the state input.

Two resources (developer guide, "ItemReader (Map)"): ``s3:listObjectsV2`` yields
one item per object under ``Prefix`` (the ``Contents`` entry in the shape the
guide shows: ``Etag`` with its quotes, ``Key``, ``LastModified`` as epoch seconds,
``Size``, ``StorageClass``), ``s3:getObject`` yields the items the object holds
(``ReaderConfig.InputType``). ``MaxItems``/``MaxItemsPath`` keep the first N.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import closing
from typing import Any, Final

from scones.workflow.asl.checks import SCHEMA, Checker, Where, is_int
from scones.workflow.asl.context import Frame
from scones.workflow.asl.distributed.formats import (
    DELIMITERS,
    HeaderLocation,
    InputType,
    ReaderProblem,
    csv_items,
    json_items,
    jsonl_items,
    manifest_items,
)
from scones.workflow.asl.distributed.objects import ObjectError, ObjectInfo, ObjectStore
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.jsonata_eval import is_expression
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.variables import UndefinedVariable

LIST_OBJECTS: Final = "arn:aws:states:::s3:listObjectsV2"
GET_OBJECT: Final = "arn:aws:states:::s3:getObject"
#: "MaxItems ... up to 100,000,000" (developer guide, ItemReader).
MAX_ITEMS_LIMIT: Final = 100_000_000
_READER_FIELDS: Final = frozenset({"Resource", "ReaderConfig", "Parameters", "Arguments"})
_CONFIG_FIELDS: Final = frozenset({"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems",
                                   "MaxItemsPath"})


class ItemReader:
    def __init__(self, props: dict[str, Any], language: QueryLanguage) -> None:
        self.resource: str = props["Resource"]
        self.arguments = optional_field(props, language, "Arguments", "Parameters")
        config: dict[str, Any] = props.get("ReaderConfig") or {}
        self.input_type = InputType(config["InputType"]) if "InputType" in config else None
        self.header_location = HeaderLocation(config.get("CSVHeaderLocation", "FIRST_ROW"))
        self.headers: list[str] | None = config.get("CSVHeaders")
        self.delimiter = DELIMITERS[config.get("CSVDelimiter", "COMMA")]
        self.max_items: Field | None = optional_field(config, language, "MaxItemsPath", "MaxItems")

    @staticmethod
    def validate(checker: Checker, props: Any, where: Where, language: QueryLanguage) -> None:
        if not isinstance(props, dict):
            checker.add(SCHEMA, "ItemReader must be a JSON object", *where)
            return
        for key in props:
            if key not in _READER_FIELDS:
                checker.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        resource = props.get("Resource")
        if resource is None:
            checker.add(SCHEMA, "These fields are required: [Resource]", *where)
        elif resource not in (LIST_OBJECTS, GET_OBJECT):
            checker.add(SCHEMA, f"The resource '{resource}' is not supported for ItemReader: use "
                        f"{LIST_OBJECTS} or {GET_OBJECT}", *where, "Resource")
        args_key = "Arguments" if language is QueryLanguage.JSONATA else "Parameters"
        other = "Parameters" if args_key == "Arguments" else "Arguments"
        if other in props:
            checker.add(SCHEMA, f"The field \"{other}\" is not supported by Step Functions in "
                        f"{language.value} states; use \"{args_key}\"", *where, other)
        args = props.get(args_key)
        if args is None:
            checker.add(SCHEMA, f"These fields are required: [{args_key}]", *where)
        elif isinstance(args, dict):
            required = ["Bucket"] + (["Key"] if resource == GET_OBJECT else [])
            missing = [k for k in required if k not in args and f"{k}.$" not in args]
            if missing:
                checker.add(SCHEMA, f"These fields are required: [{', '.join(missing)}]", *where, args_key)
            if language is QueryLanguage.JSONATA:
                checker.jsonata(args, (*where, args_key))
            else:
                checker.template(args, (*where, args_key))
        elif not is_expression(args):
            checker.add(SCHEMA, f"{args_key} must be a JSON object", *where, args_key)
        config = props.get("ReaderConfig")
        if config is None:
            if resource == GET_OBJECT:
                checker.add(SCHEMA, "These fields are required: [ReaderConfig]", *where)
            return
        _validate_config(checker, config, (*where, "ReaderConfig"), resource, language)

    def items(self, frame: Frame, raw: Any, effective: Any) -> Iterator[Any]:
        """The items, read lazily; failures surface as ``States.ItemReaderFailed`` (a bad ``MaxItemsPath``
        as ``States.Runtime``, like the other ``...Path`` fields)."""
        store = frame.execution.objects
        if store is None:
            raise FailureError.of(StatesError.ITEM_READER_FAILED,
                                  "No object store is configured for this execution, so the ItemReader has "
                                  "nothing to read from")
        arguments = self._arguments(frame, raw, effective)
        limit = self._limit(frame, raw, effective)
        source = self._source(store, arguments)
        items = source if not limit else itertools.islice(source, limit)
        return _reader_failures(items)

    def _arguments(self, frame: Frame, raw: Any, effective: Any) -> dict[str, Any]:
        try:
            value = self.arguments.eval(frame, effective, raw) if self.arguments is not None else {}
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} The ItemReader's parameters "
                                  f"could not be evaluated: {exc}") from exc
        if not isinstance(value, dict) or not isinstance(value.get("Bucket"), str):
            raise FailureError.of(StatesError.ITEM_READER_FAILED,
                                  f"The ItemReader's parameters must name a Bucket, got {to_compact_json(value)}")
        return value

    def _limit(self, frame: Frame, raw: Any, effective: Any) -> int:
        field = self.max_items
        if field is None:
            return 0
        try:
            value = field.eval(frame, effective, raw)
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} Invalid path '{field.source}' "
                                  f"for {field.name}") from exc
        if not is_int(value) or not 0 <= value <= MAX_ITEMS_LIMIT:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} The {field.name} field refers to value "
                                  f"\"{to_compact_json(value)}\" which is not a valid integer: {field.source}")
        return value

    def _source(self, store: ObjectStore, arguments: dict[str, Any]) -> Iterator[Any]:
        bucket = arguments["Bucket"]
        if self.resource == LIST_OBJECTS:
            prefix = arguments.get("Prefix", "")
            return (_listing_item(info) for info in store.list_objects(bucket, str(prefix)))
        key = arguments.get("Key")
        if not isinstance(key, str):
            raise FailureError.of(StatesError.ITEM_READER_FAILED,
                                  f"The ItemReader's parameters must name a Key, got {to_compact_json(arguments)}")
        return self._object_items(store, bucket, key)

    def _object_items(self, store: ObjectStore, bucket: str, key: str) -> Iterator[Any]:
        with closing(store.open_object(bucket, key)) as stream:
            if self.input_type is InputType.JSONL:
                yield from jsonl_items(stream)
            elif self.input_type is InputType.CSV:
                yield from csv_items(stream, self.header_location, self.headers, self.delimiter)
            elif self.input_type is InputType.MANIFEST:
                yield from manifest_items(stream, store.open_object)
            else:
                yield from json_items(stream)


def _listing_item(info: ObjectInfo) -> dict[str, Any]:
    return {"Etag": f'"{info.etag}"', "Key": info.key, "LastModified": int(info.last_modified),
            "Size": info.size, "StorageClass": "STANDARD"}


def _reader_failures(items: Iterator[Any]) -> Iterator[Any]:
    """The items, with a store or content problem met while reading them turned into the Map's failure."""
    try:
        yield from items
    except ObjectError as exc:
        raise FailureError.of(StatesError.ITEM_READER_FAILED, exc.cause) from exc
    except ReaderProblem as exc:
        raise FailureError.of(StatesError.ITEM_READER_FAILED, str(exc)) from exc


def _validate_config(checker: Checker, config: Any, where: Where, resource: Any, language: QueryLanguage) -> None:
    if not isinstance(config, dict):
        checker.add(SCHEMA, "ReaderConfig must be a JSON object", *where)
        return
    for key in config:
        if key not in _CONFIG_FIELDS:
            checker.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
    input_type = config.get("InputType")
    if input_type is None:
        if resource == GET_OBJECT:
            checker.add(SCHEMA, "These fields are required: [InputType]", *where)
    elif input_type not in InputType.__members__:
        checker.add(SCHEMA, f"InputType must be one of {', '.join(InputType.__members__)}", *where, "InputType")
    if input_type == "CSV":
        location = config.get("CSVHeaderLocation")
        if location not in HeaderLocation.__members__:
            checker.add(SCHEMA, "CSVHeaderLocation must be FIRST_ROW or GIVEN", *where, "CSVHeaderLocation")
        headers = config.get("CSVHeaders")
        if location == "GIVEN" and (not isinstance(headers, list) or not headers
                                    or not all(isinstance(h, str) for h in headers)):
            checker.add(SCHEMA, "CSVHeaderLocation GIVEN needs CSVHeaders, a non-empty list of strings", *where)
        if "CSVDelimiter" in config and config["CSVDelimiter"] not in DELIMITERS:
            checker.add(SCHEMA, f"CSVDelimiter must be one of {', '.join(DELIMITERS)}", *where, "CSVDelimiter")
    elif "CSVHeaderLocation" in config or "CSVHeaders" in config:
        checker.add(SCHEMA, "CSVHeaderLocation and CSVHeaders apply to InputType CSV only", *where)
    if "MaxItems" in config and "MaxItemsPath" in config:
        checker.add(SCHEMA, "Only one of \"MaxItems\" or \"MaxItemsPath\" can be present", *where)
    max_items = config.get("MaxItems")
    if max_items is not None and not is_expression(max_items) and (
            not is_int(max_items) or not 0 <= max_items <= MAX_ITEMS_LIMIT):
        checker.add(SCHEMA, f"MaxItems must be an integer between 0 and {MAX_ITEMS_LIMIT:,}", *where, "MaxItems")
    if "MaxItemsPath" in config:
        if language is QueryLanguage.JSONATA:
            checker.add(SCHEMA, "MaxItemsPath is a JSONPath field; use MaxItems in JSONata states", *where,
                        "MaxItemsPath")
        else:
            checker.path(config["MaxItemsPath"], (*where, "MaxItemsPath"), reference=True, nullable=False)
