"""Finding and streaming Data Capture files, wherever the URI points.

A capture URI may name the capture root, an endpoint folder, a variant folder, an
hour folder or one ``.jsonl`` file, locally or on S3; SageMaker's own layout
(``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/…``) and recordings that lost a
level (the shared AWS file sits under ``data_capture/AllTraffic/…``) read the
same way. Records are parsed only through ``scones.capture_format``. Nothing here
raises on bad content: every problem is counted in ``CaptureIssues``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from scones.capture_format import CaptureFormatError, CaptureRecord, parse_capture_key
from scones.errors import NotFoundError, StoreError
from scones.monitor.errors import MonitorError
from scones.store import Store, is_remote, open_store, split_uri

LOG = logging.getLogger(__name__)

CAPTURE_SUFFIX: Final = ".jsonl"
MAX_EXAMPLES: Final = 5


class Issue(str, Enum):
    """Kinds of bad input the reader counts instead of failing on."""

    UNREADABLE_FILE = "unreadable_file"
    NOT_JSON = "not_json_line"
    INVALID_RECORD = "invalid_record"
    NO_OUTPUT = "missing_output"
    BAD_OUTPUT = "unparseable_output"
    TOO_FEW_CLASSES = "too_few_probabilities"
    TOO_MANY_CLASSES = "too_many_probabilities"
    NO_INPUT = "missing_input"
    BAD_IMAGE = "undecodable_image"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final = MappingProxyType({
    Issue.UNREADABLE_FILE: "capture files that could not be read",
    Issue.NOT_JSON: "lines that are not JSON",
    Issue.INVALID_RECORD: "records missing fields or of the wrong shape",
    Issue.NO_OUTPUT: "records without an endpoint output",
    Issue.BAD_OUTPUT: "outputs that are not class probabilities (e.g. not JSON)",
    Issue.TOO_FEW_CLASSES: "outputs with fewer probabilities than the baseline has classes",
    Issue.TOO_MANY_CLASSES: "outputs with more probabilities than the baseline has classes",
    Issue.NO_INPUT: "records without an endpoint input",
    Issue.BAD_IMAGE: "inputs that do not decode as an image",
})


@dataclass
class CaptureIssues:
    """Counters of bad input, with the first few examples of each kind (``file:line: why``)."""

    counts: Counter[Issue] = field(default_factory=Counter)
    examples: dict[Issue, list[str]] = field(default_factory=dict)

    def add(self, issue: Issue, where: str, why: str) -> None:
        self.counts[issue] += 1
        shown = self.examples.setdefault(issue, [])
        if len(shown) < MAX_EXAMPLES:
            shown.append(f"{where}: {why}")

    def merge(self, other: CaptureIssues) -> None:
        self.counts.update(other.counts)
        for issue, shown in other.examples.items():
            mine = self.examples.setdefault(issue, [])
            mine.extend(shown[: MAX_EXAMPLES - len(mine)])

    @property
    def total(self) -> int:
        """Bad input proper: a record without its input or its output is left out, since a capture
        configured for Input or Output only writes exactly such records (they are still counted)."""
        return sum(n for issue, n in self.counts.items() if issue not in (Issue.NO_INPUT, Issue.NO_OUTPUT))

    def to_dict(self) -> dict[str, Any]:
        return {issue.value: {"count": self.counts.get(issue, 0), "description": issue.label,
                              "examples": list(self.examples.get(issue, []))}
                for issue in Issue}


@dataclass(frozen=True)
class CaptureFile:
    """One capture file: the store it is read from, its key there, and its first event's time if known."""

    store_uri: str
    key: str
    uri: str
    first_event: datetime | None


def _first_event(uri: str) -> datetime | None:
    try:
        return parse_capture_key(uri)[2]
    except CaptureFormatError:
        return None


def locate_capture(uri: str, *, s3_client: Any | None = None) -> tuple[Store, list[CaptureFile]]:
    """The store and the ``.jsonl`` files under ``uri`` (a folder at any level, or one file), in key order.

    A URI that names nothing is an error; an existing folder without capture files is an empty capture.
    """
    text = str(uri)
    if not is_remote(text):
        local = Path(text.removeprefix("file://"))
        if local.is_file():
            store = open_store(str(local.parent))
            return store, [CaptureFile(store.uri, local.name, store.uri_for(local.name),
                                       _first_event(store.uri_for(local.name)))]
        if not local.is_dir():
            raise NotFoundError(f"No capture at {text}",
                                hint="pass the capture folder (e.g. <store>/data_capture) or a .jsonl file")
    elif text.rstrip("/").endswith(CAPTURE_SUFFIX):
        parent, name = split_uri(text)
        store = open_store(parent, s3_client=s3_client)
        if not store.exists(name):
            raise NotFoundError(f"No capture file at {text}")
        return store, [CaptureFile(store.uri, name, store.uri_for(name), _first_event(store.uri_for(name)))]
    store = open_store(text, s3_client=s3_client)
    try:
        keys = [k for k in store.list() if k.endswith(CAPTURE_SUFFIX)]
    except StoreError as exc:
        # The store's message already names the location; add what to do about it.
        raise MonitorError(f"Cannot list the capture files: {exc.message}",
                           hint=exc.hint or "check the URI, and for s3:// your AWS credentials and region") from exc
    files = [CaptureFile(store.uri, k, store.uri_for(k), _first_event(store.uri_for(k))) for k in keys]
    files.sort(key=lambda f: (f.first_event is None, f.first_event or datetime.min, f.key))
    return store, files


def iter_lines(store: Store | None, capture: CaptureFile, data: bytes | None = None) -> Iterator[bytes]:
    """The file's lines: from ``data`` when already fetched, else streamed from disk when local
    (one line in memory at a time), else fetched whole (capture files rotate at a few MiB)."""
    if data is not None:
        yield from data.splitlines()
        return
    if store is None:
        raise ValueError("iter_lines needs a store or the file's bytes")
    path = store.local_path(capture.key)
    if path is not None:
        with open(path, "rb") as fh:
            yield from fh
        return
    yield from store.get_bytes(capture.key).splitlines()


def iter_records(store: Store | None, capture: CaptureFile, issues: CaptureIssues,
                 data: bytes | None = None) -> Iterator[tuple[int, CaptureRecord]]:
    """``(line number, record)`` for every well-formed record; everything else is counted in ``issues``."""
    name = capture.key.rsplit("/", 1)[-1]
    try:
        for number, line in enumerate(iter_lines(store, capture, data), start=1):
            if not line.strip():
                continue
            try:
                record = CaptureRecord.from_json_line(line)
            except CaptureFormatError as exc:
                if str(exc).startswith("not JSON"):
                    issues.add(Issue.NOT_JSON, f"{name}:{number}", f"{str(exc)[:120]} in {line[:60]!r}")
                else:
                    issues.add(Issue.INVALID_RECORD, f"{name}:{number}", str(exc)[:200])
                continue
            except (RecursionError, ValueError, TypeError) as exc:
                issues.add(Issue.INVALID_RECORD, f"{name}:{number}", f"{type(exc).__name__}: {exc}"[:200])
                continue
            yield number, record
    except (OSError, StoreError) as exc:
        LOG.info("could not read capture file %s: %s", capture.uri, exc)  # counted and reported
        issues.add(Issue.UNREADABLE_FILE, name, str(exc)[:200])
