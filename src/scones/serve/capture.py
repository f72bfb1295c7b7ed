"""Data Capture off the request path: a bounded queue, one writer thread, files in SageMaker's layout.

A request hands its payloads to ``CaptureWriter.submit`` *before* its response
goes out and never waits: ``submit`` only appends to a queue. The writer thread
turns them into records (``scones.capture_format`` owns the JSON) and writes the
current file to the store every ``flush_interval`` seconds, each write a whole
object under its final key (atomic locally, a PUT on S3), so a reader never
sees half a line. A file rotates the way SageMaker's do: when it is
``rotate_seconds`` old, reaches ``rotate_bytes``, or the UTC hour changes; its
key is named by its first event.

Policy when the store is slower than traffic: the backlog is bounded by a
record count and a byte budget; a record that does not fit is dropped, counted
(``scones_capture_records_total{outcome="dropped"}``) and logged, and the
response is unaffected. On shutdown the server stops taking requests first,
then ``close`` drains the queue within ``drain_timeout``, so every answered
request is on disk (or counted as failed) before the process exits.
"""

from __future__ import annotations

import logging
import queue
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from scones.capture_format import (
    DEFAULT_CSV_TYPES,
    DEFAULT_JSON_TYPES,
    CaptureRecord,
    CaptureSide,
    Mode,
    capture_key,
)
from scones.errors import UsageError
from scones.serve.metrics import Metrics
from scones.store import Store, open_store

LOG = logging.getLogger(__name__)

CAPTURE_MODES: Final = ("Input", "Output", "InputAndOutput")
_MEDIA_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")


@dataclass(frozen=True)
class CaptureConfig:
    """``DataCaptureConfig`` (docs/aws-facts.md, Data Capture) plus the writer's own knobs."""

    destination: str
    sampling_percentage: int = 100
    capture_input: bool = True
    capture_output: bool = True
    csv_content_types: tuple[str, ...] = DEFAULT_CSV_TYPES
    json_content_types: tuple[str, ...] = DEFAULT_JSON_TYPES
    flush_interval: float = 1.0
    rotate_seconds: float = 60.0
    rotate_bytes: int = 4 * 1024 * 1024
    max_backlog_records: int = 10_000
    max_backlog_bytes: int = 64 * 1024 * 1024
    #: With the 15 s graceful HTTP shutdown, stays under SageMaker's SIGKILL 30 s after SIGTERM
    #: (docs/aws-facts.md, SageMaker hosting container).
    drain_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not str(self.destination).strip():
            raise UsageError("The Data Capture destination is empty",
                             hint="pass --capture-dest PATH or s3://bucket/prefix, or leave it out for the default")
        if not isinstance(self.sampling_percentage, int) or not 0 <= self.sampling_percentage <= 100:
            raise UsageError(f"Sampling percentage {self.sampling_percentage!r} is not an integer from 0 to 100")
        for kind, types in (("CSV", self.csv_content_types), ("JSON", self.json_content_types)):
            for content_type in types:
                # CaptureContentTypeHeader: 1-256 characters, type/subtype
                if not 1 <= len(content_type) <= 256 or not _MEDIA_TYPE.fullmatch(content_type.strip()):
                    raise UsageError(f"{content_type!r} is not a content type to capture as {kind}",
                                     hint="give a media type such as application/json or text/csv")
        if not (self.capture_input or self.capture_output):
            raise UsageError("Data Capture needs at least one of Input and Output")
        if self.flush_interval <= 0 or self.rotate_seconds <= 0 or self.rotate_bytes <= 0:
            raise UsageError("capture flush interval and rotation limits must be positive")

    @staticmethod
    def mode_flags(mode: str) -> tuple[bool, bool]:
        """``CaptureMode`` (``Input``/``Output``/``InputAndOutput``) -> (capture input, capture output)."""
        if mode not in CAPTURE_MODES:
            raise UsageError(f"Capture mode {mode!r} is not one of {', '.join(CAPTURE_MODES)}")
        return mode != "Output", mode != "Input"


@dataclass(frozen=True)
class Invocation:
    """One answered request, as handed to the writer (records are built in its thread)."""

    when: datetime
    request_body: bytes
    request_content_type: str | None
    response_body: bytes
    response_content_type: str
    inference_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.request_body) + len(self.response_body)


_STOP: Final = object()


@dataclass
class _OpenFile:
    key: str
    first_event: datetime
    opened: float
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    persisted: int = 0  # lines already in the stored object


class CaptureWriter:
    def __init__(self, config: CaptureConfig, *, endpoint_name: str, variant: str,
                 store: Store | None = None, metrics: Metrics | None = None, seed: int | None = None) -> None:
        self.config = config
        self.endpoint_name = endpoint_name
        self.variant = variant
        self.store = store if store is not None else open_store(config.destination)
        self.metrics = metrics or Metrics()
        self._rng = random.Random(seed)
        self._queue: queue.SimpleQueue[Invocation | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._backlog_records = 0
        self._backlog_bytes = 0
        self._closed = False
        self._file: _OpenFile | None = None
        self._next_flush = 0.0
        self._failed_keys: set[str] = set()
        self._drops_logged = 0
        self._thread = threading.Thread(target=self._run, name="scones-capture", daemon=True)
        self.metrics.gauge("scones_capture_backlog_records", "Captured records waiting to be written.",
                           lambda: self.backlog)

    def check_destination(self) -> None:
        """Write and remove one probe object where the records will go, so that a destination that
        cannot be written fails the start-up instead of losing every record later."""
        import uuid

        from scones.errors import SconesError, StoreError

        probe = f"{self.endpoint_name}/{self.variant}/.scones-write-probe-{uuid.uuid4().hex}"
        try:
            self.store.put_bytes(probe, b"")
        except Exception as exc:  # ours, or boto3's and the OS's from the store's backend
            reason = exc.message if isinstance(exc, SconesError) else exc
            raise StoreError(f"Data Capture cannot write to {self.store.uri}: {reason}",
                             hint="pass a writable --capture-dest (a folder, or s3://bucket/prefix)") from exc
        try:
            self.store.delete(probe)
        except Exception:  # pragma: no cover - a store that lets us write but not delete: harmless leftover
            LOG.warning("could not remove the capture write probe %s", self.store.uri_for(probe))

    # -- request side (event loop) ---------------------------------------
    def start(self) -> None:
        self._thread.start()

    def should_sample(self) -> bool:
        pct = self.config.sampling_percentage
        return pct >= 100 or (pct > 0 and self._rng.random() * 100 < pct)

    def submit(self, invocation: Invocation) -> bool:
        """Queue one record without waiting; False (and counted) when the backlog is full or closed."""
        size = invocation.size
        with self._lock:
            full = (self._backlog_records >= self.config.max_backlog_records
                    or self._backlog_bytes + size > self.config.max_backlog_bytes)
            if self._closed or full:
                self._drops_logged += 1
                drops = self._drops_logged
            else:
                self._backlog_records += 1
                self._backlog_bytes += size
                self._queue.put(invocation)  # under the lock: never behind close()'s stop marker
                drops = 0
        if drops:
            self.metrics.count_capture("dropped")
            if drops & (drops - 1) == 0:  # log the 1st, 2nd, 4th, 8th... drop, not every one
                LOG.warning("data capture dropped %d record(s) so far: %s", drops,
                            "writer closed" if self._closed else
                            f"backlog full ({self.config.max_backlog_records} records / "
                            f"{self.config.max_backlog_bytes} bytes); the store is slower than traffic")
            return False
        self.metrics.count_capture("queued")
        return True

    @property
    def backlog(self) -> int:
        return self._backlog_records

    def close(self, timeout: float | None = None) -> bool:
        """Write everything queued, then stop. True when drained within the timeout."""
        with self._lock:
            if self._closed:
                return not self._thread.is_alive()
            self._closed = True
        if not self._thread.is_alive():
            return True
        self._queue.put(_STOP)
        limit = self.config.drain_timeout if timeout is None else timeout
        self._thread.join(limit)
        if self._thread.is_alive():
            LOG.error("data capture did not drain within %.1f s; %d record(s) not written to %s",
                      limit, self.backlog, self.store.uri)
            return False
        return True

    # -- writer thread -----------------------------------------------------
    def _run(self) -> None:
        while True:
            timeout = None if self._file is None else max(0.0, self._next_flush - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                self._flush(closing=True)
                return
            if isinstance(item, Invocation):
                try:
                    self._add(item)
                except Exception:  # a bug building one record must not stop capture for the rest
                    LOG.exception("could not build a capture record; skipped")
                    self.metrics.count_capture("failed")
                finally:
                    with self._lock:
                        self._backlog_records -= 1
                        self._backlog_bytes -= item.size
            if self._file is not None and time.monotonic() >= self._next_flush:
                self._flush(closing=False)

    def _record(self, inv: Invocation) -> CaptureRecord:
        cfg = self.config
        types = {"csv_types": cfg.csv_content_types, "json_types": cfg.json_content_types}
        side_in = (CaptureSide.from_payload(inv.request_body, inv.request_content_type, Mode.INPUT, **types)
                   if cfg.capture_input else None)
        side_out = (CaptureSide.from_payload(inv.response_body, inv.response_content_type, Mode.OUTPUT, **types)
                    if cfg.capture_output else None)
        return CaptureRecord.new(when=inv.when, inference_id=inv.inference_id,
                                 endpoint_input=side_in, endpoint_output=side_out)

    def _add(self, inv: Invocation) -> None:
        line = self._record(inv).to_json_line().encode("utf-8")
        current = self._file
        now = time.monotonic()
        if current is not None and (
                inv.when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                != current.first_event.replace(minute=0, second=0, microsecond=0)
                or now - current.opened >= self.config.rotate_seconds
                or current.size + len(line) > self.config.rotate_bytes):
            self._flush(closing=True)
            current = None
        if current is None:
            when = inv.when.astimezone(UTC)
            current = self._file = _OpenFile(capture_key(self.endpoint_name, self.variant, when), when, now)
            self._next_flush = now + self.config.flush_interval
        current.lines.append(line)
        current.size += len(line)

    def _flush(self, *, closing: bool) -> None:
        """Write the open file whole; with ``closing`` it is also the last write of that file."""
        current = self._file
        if current is None:
            return
        self._next_flush = time.monotonic() + self.config.flush_interval
        pending = len(current.lines) - current.persisted
        if pending:
            try:
                self.store.put_bytes(current.key, b"".join(current.lines))
            except Exception as exc:  # any store failure: keep serving, say so once per file
                if current.key not in self._failed_keys:
                    self._failed_keys.add(current.key)
                    LOG.error("data capture could not write %s: %s", self.store.uri_for(current.key), exc)
                if closing:
                    self.metrics.count_capture("failed", pending)
                    self._file = None
                return
            current.persisted = len(current.lines)
            self.metrics.count_capture("written", pending)
        if closing:
            self._file = None
