"""What an object's bytes hold as items: ``ReaderConfig.InputType`` JSON, JSONL, CSV, or an inventory MANIFEST.

Each reader yields items one at a time (JSON excepted: an array is parsed whole),
so a map run over a large object holds only the items in flight. A problem with
the content raises ``ReaderProblem``; the item reader turns it into
``States.ItemReaderFailed``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Any, BinaryIO, Final


class InputType(str, Enum):
    JSON = "JSON"
    JSONL = "JSONL"
    CSV = "CSV"
    MANIFEST = "MANIFEST"


class HeaderLocation(str, Enum):
    FIRST_ROW = "FIRST_ROW"
    GIVEN = "GIVEN"


#: ``ReaderConfig.CSVDelimiter`` values (developer guide, ItemReader).
DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


class ReaderProblem(Exception):
    """The object's content is not what ``InputType`` says."""


def json_items(stream: BinaryIO) -> Iterator[Any]:
    try:
        value = json.load(io.TextIOWrapper(stream, encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReaderProblem(f"The object is not valid JSON: {exc}") from exc
    if not isinstance(value, list):
        # The cause AWS gives (recorded by LocalStack's tests).
        raise ReaderProblem("Attempting to map over non-iterable node.")
    yield from value


def jsonl_items(stream: BinaryIO) -> Iterator[Any]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig")
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            raise ReaderProblem(f"Line {number} of the object is not valid JSON: {exc}") from exc


def csv_items(stream: BinaryIO, location: HeaderLocation, given: Sequence[str] | None,
              delimiter: str = ",") -> Iterator[dict[str, str]]:
    """One object per row, keyed by the headers; every value is a string (as on AWS)."""
    rows = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), delimiter=delimiter)
    if location is HeaderLocation.FIRST_ROW:
        headers = next(rows, None)
        if headers is None:
            return
    else:
        headers = list(given or [])
    if len(set(headers)) < len(headers):
        raise ReaderProblem("CSV headers cannot contain duplicates.")
    width = len(headers)
    try:
        for row in rows:
            if not row:
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield dict(zip(headers, row, strict=False))
    except csv.Error as exc:
        raise ReaderProblem(f"The object is not valid CSV: {exc}") from exc


def manifest_items(stream: BinaryIO, open_object: Callable[[str, str], BinaryIO]) -> Iterator[dict[str, str]]:
    """An S3 Inventory ``manifest.json``: each row of its CSV (optionally gzip) files, keyed by ``fileSchema``.

    The files are read from the manifest's ``destinationBucket`` (an ARN or a name) one after the other.
    """
    try:
        manifest = json.load(io.TextIOWrapper(stream, encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReaderProblem(f"The manifest is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ReaderProblem("The manifest is not an S3 Inventory manifest (no \"files\" list)")
    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise ReaderProblem(f"Only CSV inventory files can be read, not {manifest.get('fileFormat')}")
    schema = [h.strip() for h in str(manifest.get("fileSchema", "Bucket, Key")).split(",")]
    bucket = str(manifest.get("destinationBucket", "")).removeprefix("arn:aws:s3:::")
    for entry in manifest["files"]:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str):
            raise ReaderProblem("An entry of the manifest's \"files\" has no \"key\"")
        with open_object(bucket, key) as raw:
            source: BinaryIO = gzip.GzipFile(fileobj=raw) if key.endswith(".gz") else raw  # type: ignore[assignment]
            try:
                yield from csv_items(source, HeaderLocation.GIVEN, schema)
            except (OSError, EOFError) as exc:  # a damaged .gz
                raise ReaderProblem(f"The inventory file {key} cannot be read: {exc}") from exc
