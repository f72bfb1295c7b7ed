"""``ResultWriter``: the children's results exported to the object store, and the Map's output saying where.

Layout (developer guide, "ResultWriter (Map)"): under ``<Prefix>/<map run id>/``,
``manifest.json`` lists the result files by status (``SUCCEEDED_0.json``,
``FAILED_0.json``, ``PENDING_0.json``; a status without results has none), and
the Map's output is ``{"MapRunArn": ..., "ResultWriterDetails": {"Bucket", "Key"}}``
with the manifest's key. Each file is a JSON array of the children's entries
(``ChildResult.entry``), or with ``WriterConfig`` the transformed outputs, JSON or
JSON Lines. Entries are spooled to temporary files as children end, so a run of
100,000 items never holds its results in memory.

``WriterConfig`` alone (no ``Resource``) exports nothing: it shapes the Map's output.
"""

from __future__ import annotations

import json
import tempfile
from enum import Enum
from typing import IO, Any, Final

from scones.workflow.asl.checks import SCHEMA, Checker, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.distributed.children import ChildResult
from scones.workflow.asl.distributed.map_run import MapRun
from scones.workflow.asl.distributed.objects import ObjectError
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.fields import optional_field
from scones.workflow.asl.jsontext import to_compact_json
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.variables import UndefinedVariable

PUT_OBJECT: Final = "arn:aws:states:::s3:putObject"
_FIELDS: Final = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
#: Spooled results stay in memory up to this size, then go to a temporary file.
_SPOOL_BYTES: Final = 1 << 20


class Transformation(str, Enum):
    NONE = "NONE"
    COMPACT = "COMPACT"
    FLATTEN = "FLATTEN"


class OutputType(str, Enum):
    JSON = "JSON"
    JSONL = "JSONL"


class FileStatus(str, Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"


class ResultWriter:
    def __init__(self, props: dict[str, Any], language: QueryLanguage) -> None:
        self.resource: str | None = props.get("Resource")
        self.arguments = optional_field(props, language, "Arguments", "Parameters")
        config: dict[str, Any] = props.get("WriterConfig") or {}
        default = Transformation.NONE if self.resource else Transformation.COMPACT
        self.transformation = Transformation(config.get("Transformation", default.value))
        self.output_type = OutputType(config.get("OutputType", OutputType.JSON.value))

    @property
    def exports(self) -> bool:
        return self.resource is not None

    @staticmethod
    def validate(checker: Checker, props: Any, where: Where, language: QueryLanguage) -> None:
        if not isinstance(props, dict) or not props:
            checker.add(SCHEMA, "ResultWriter must be a non-empty JSON object", *where)
            return
        for key in props:
            if key not in _FIELDS:
                checker.add(SCHEMA, f"The field \"{key}\" is not supported by Step Functions", *where, key)
        args_key = "Arguments" if language is QueryLanguage.JSONATA else "Parameters"
        resource, args = props.get("Resource"), props.get(args_key)
        if resource is None and args is None:
            if "WriterConfig" not in props:
                checker.add(SCHEMA, "These fields are required: [Resource, " + args_key + "]", *where)
        elif resource != PUT_OBJECT:
            checker.add(SCHEMA, f"ResultWriter needs \"Resource\": \"{PUT_OBJECT}\"", *where, "Resource")
        elif not isinstance(args, dict):
            checker.add(SCHEMA, f"These fields are required: [{args_key}]", *where)
        else:
            if "Bucket" not in args and "Bucket.$" not in args:
                checker.add(SCHEMA, "These fields are required: [Bucket]", *where, args_key)
            if language is QueryLanguage.JSONATA:
                checker.jsonata(args, (*where, args_key))
            else:
                checker.template(args, (*where, args_key))
        config = props.get("WriterConfig")
        if config is not None:
            if not isinstance(config, dict):
                checker.add(SCHEMA, "WriterConfig must be a JSON object", *where, "WriterConfig")
                return
            for key, enum in (("Transformation", Transformation), ("OutputType", OutputType)):
                if key in config and config[key] not in enum.__members__:
                    checker.add(SCHEMA, f"{key} must be one of {', '.join(enum.__members__)}", *where,
                                "WriterConfig", key)

    def destination(self, frame: Frame, raw: Any, effective: Any) -> tuple[str, str]:
        """``(bucket, prefix)``, the prefix ending with ``/`` unless empty."""
        try:
            value = self.arguments.eval(frame, effective, raw) if self.arguments is not None else {}
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} The ResultWriter's parameters "
                                  f"could not be evaluated: {exc}") from exc
        bucket = value.get("Bucket") if isinstance(value, dict) else None
        if not isinstance(bucket, str):
            raise FailureError.of(StatesError.RESULT_WRITER_FAILED,
                                  f"The ResultWriter's parameters must name a Bucket, got {to_compact_json(value)}")
        prefix = str(value.get("Prefix", ""))
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return bucket, prefix


class ResultFiles:
    """The result entries of one map run, spooled by status until ``publish`` writes them to ``bucket``
    under ``prefix`` (``ResultWriter.destination``)."""

    def __init__(self, writer: ResultWriter, run: MapRun, bucket: str, prefix: str) -> None:
        self.writer = writer
        self.run = run
        self.bucket = bucket
        self.prefix = prefix
        self._files: dict[FileStatus, IO[bytes]] = {}
        self._counts: dict[FileStatus, int] = {}
        self._written_items = 0
        self._written_children = 0

    def add(self, result: ChildResult) -> None:
        status = FileStatus.SUCCEEDED if result.succeeded else FileStatus.FAILED
        for value in self._values(result):
            self._append(status, value)
        self._written_items += result.items
        self._written_children += 1

    def add_pending(self, child_input: Any) -> None:
        self._append(FileStatus.PENDING, {"Input": to_compact_json(child_input), "InputDetails": {"Included": True},
                                          "StateMachineArn": self.run.state_machine_arn, "Status": "PENDING"})

    def _values(self, result: ChildResult) -> list[Any]:
        transformation = self.writer.transformation
        if transformation is Transformation.NONE or not result.succeeded:
            return [result.entry(self.run.state_machine_arn)]
        if transformation is Transformation.FLATTEN and isinstance(result.output, list):
            return list(result.output)
        return [result.output]

    def _append(self, status: FileStatus, value: Any) -> None:
        spool = self._files.get(status)
        count = self._counts.get(status, 0)
        if spool is None:
            spool = self._files[status] = tempfile.SpooledTemporaryFile(_SPOOL_BYTES)
            if self.writer.output_type is OutputType.JSON:
                spool.write(b"[")
        text = to_compact_json(value).encode("utf-8")
        if self.writer.output_type is OutputType.JSON:
            spool.write((b"," if count else b"") + text)
        else:
            spool.write(text + b"\n")
        self._counts[status] = count + 1

    def publish(self, frame: Frame) -> dict[str, Any]:
        """Write the files and the manifest; the Map's output. ``States.ResultWriterFailed`` when the store
        refuses (no such bucket)."""
        bucket, prefix = self.bucket, self.prefix
        store = frame.execution.objects
        if store is None:
            raise FailureError.of(StatesError.RESULT_WRITER_FAILED,
                                  "No object store is configured for this execution, so the Map results cannot "
                                  "be written")
        base = f"{prefix}{self.run.id}/"
        extension = "json" if self.writer.output_type is OutputType.JSON else "jsonl"
        listed: dict[str, list[dict[str, Any]]] = {s.value: [] for s in (FileStatus.FAILED, FileStatus.PENDING,
                                                                         FileStatus.SUCCEEDED)}
        try:
            for status, spool in self._files.items():
                if self.writer.output_type is OutputType.JSON:
                    spool.write(b"]")
                spool.seek(0)
                key = f"{base}{status.value}_0.{extension}"
                size = store.put_object(bucket, key, spool)  # type: ignore[arg-type]
                listed[status.value].append({"Key": key, "Size": size})
            manifest = {"DestinationBucket": bucket, "MapRunArn": self.run.arn, "ResultFiles": listed}
            manifest_key = f"{base}manifest.json"
            with tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as text:
                text.write(json.dumps(manifest, separators=(",", ":")).encode("utf-8"))
                text.seek(0)
                store.put_object(bucket, manifest_key, text)  # type: ignore[arg-type]
        except ObjectError as exc:
            raise FailureError.of(StatesError.RESULT_WRITER_FAILED, exc.cause) from exc
        finally:
            self.close()
        self.run.written(self._written_items, self._written_children)
        return {"MapRunArn": self.run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}

    def close(self) -> None:
        for spool in self._files.values():
            spool.close()
        self._files.clear()
