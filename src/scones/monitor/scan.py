"""Turning capture files into columns of numbers, one file per task, in parallel when local.

Each file becomes a ``CaptureColumns``: per record its time, class probabilities
and image statistics as numpy arrays (a few dozen bytes per record, so 100,000
records fit easily), plus counters, content types and the lowest-confidence images
for thumbnails. Files are scanned by a process pool (image decoding is the cost):
local files are read by the workers, S3 files are downloaded a few ahead by threads
and handed over as bytes.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import numpy as np

from scones.capture_format import CaptureFormatError, CaptureRecord, media_type
from scones.errors import StoreError
from scones.functions.helper import content_type_of
from scones.monitor.capture import CaptureFile, CaptureIssues, Issue, iter_records
from scones.monitor.features import (
    IMAGE_FEATURES,
    ImageDecodeError,
    OutputFormatError,
    decode_image,
    image_stats,
    parse_batch,
    parse_batch_answer,
    parse_probabilities,
)
from scones.progress import progress
from scones.store import Store, open_store

LOG = logging.getLogger(__name__)

#: Images decoded before their statistics are computed together (at most this many, and at most
#: this many bytes of pixels, so that large images cannot pile up in memory).
IMAGE_BATCH: Final = 2048
IMAGE_BATCH_BYTES: Final = 32 * 1024 * 1024
#: Remote capture files downloaded ahead of the one being scanned.
PREFETCH: Final = 4


@dataclass(frozen=True)
class Thumbnail:
    confidence: float
    time: float
    predicted: int
    content_type: str
    data: bytes
    where: str


@dataclass
class CaptureColumns:
    """Per-record columns of a capture (or of a part of it)."""

    num_classes: int
    time: np.ndarray
    probs: np.ndarray
    images: np.ndarray
    content_types: Counter[str] = field(default_factory=Counter)
    issues: CaptureIssues = field(default_factory=CaptureIssues)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    out_of_window: int = 0
    files: int = 0
    files_skipped: int = 0

    @classmethod
    def empty(cls, num_classes: int) -> CaptureColumns:
        return cls(num_classes, np.empty(0), np.empty((0, num_classes), dtype=np.float32),
                   np.empty((0, len(IMAGE_FEATURES))))

    @property
    def count(self) -> int:
        return int(self.time.size)

    @property
    def has_output(self) -> np.ndarray:
        return ~np.isnan(self.probs).any(axis=1) if self.count else np.zeros(0, dtype=bool)

    @property
    def confidence(self) -> np.ndarray:
        """Top-class probability per record (NaN where the output is missing or unusable)."""
        out = np.full(self.count, np.nan)
        ok = self.has_output
        if ok.any():
            out[ok] = self.probs[ok].max(axis=1)
        return out

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class index per record (-1 where the output is missing or unusable)."""
        out = np.full(self.count, -1, dtype=np.int64)
        ok = self.has_output
        if ok.any():
            out[ok] = self.probs[ok].argmax(axis=1)
        return out


def merge_columns(parts: Sequence[CaptureColumns], num_classes: int, max_thumbnails: int) -> CaptureColumns:
    if not parts:
        return CaptureColumns.empty(num_classes)
    merged = CaptureColumns(
        num_classes,
        np.concatenate([p.time for p in parts]),
        np.concatenate([p.probs for p in parts]),
        np.concatenate([p.images for p in parts]),
    )
    for p in parts:
        merged.content_types.update(p.content_types)
        merged.issues.merge(p.issues)
        merged.out_of_window += p.out_of_window
        merged.files += p.files
        merged.files_skipped += p.files_skipped
    merged.thumbnails = _lowest((t for p in parts for t in p.thumbnails), max_thumbnails)
    order = np.argsort(merged.time, kind="stable")
    merged.time, merged.probs, merged.images = merged.time[order], merged.probs[order], merged.images[order]
    return merged


@dataclass(frozen=True)
class ScanOptions:
    num_classes: int
    since: datetime | None = None
    until: datetime | None = None
    max_thumbnails: int = 12


class _FileScanner:
    """Accumulates one file's records into columns, decoding images in batches."""

    def __init__(self, options: ScanOptions) -> None:
        self.options = options
        self.times: list[float] = []
        self.probs: list[Sequence[float] | None] = []
        self.pending: list[tuple[int, np.ndarray]] = []
        self.pending_bytes = 0
        self.image_rows: list[np.ndarray] = []
        self.image_index: list[np.ndarray] = []
        self.content_types: Counter[str] = Counter()
        self.issues = CaptureIssues()
        self.thumbs: list[tuple[float, float, int, Thumbnail]] = []  # max-heap by -confidence
        self.out_of_window = 0
        self.since = options.since.timestamp() if options.since else -math.inf
        self.until = options.until.timestamp() if options.until else math.inf

    def add(self, where: str, record: CaptureRecord) -> None:
        when = record.inference_time.timestamp()
        if not self.since <= when < self.until:
            self.out_of_window += 1
            return
        side = record.endpoint_input
        batch = parse_batch(side, record.endpoint_output) if side is not None else None
        if batch is not None:  # one JSON batch request to scones serve: a row per image
            for data, answer in batch:
                probs = self._checked_count(where, answer) if answer is not None else None
                if record.endpoint_output is None:  # Input-only capture: nothing to parse
                    self.issues.add(Issue.NO_OUTPUT, where, "record has no endpointOutput")
                elif answer is None:
                    self.issues.add(Issue.BAD_OUTPUT, where, "batch answer is not one probability list per image")
                # Each item counts under its own image type, as the baseline counts its images.
                self._add_row(where, when, probs, content_type_of(data), _given(data))
            return
        answers = parse_batch_answer(record.endpoint_output) if side is None and record.endpoint_output else None
        if answers is not None:  # Output-only capture of a batch: a row per answer, no image
            for answer in answers:
                self._add_row(where, when, self._checked_count(where, answer), "", None)
            return
        probs = self._probabilities(where, record)
        if side is None:
            self._add_row(where, when, probs, "", None)
        else:
            self._add_row(where, when, probs, side.observed_content_type, side.payload)

    def _add_row(self, where: str, when: float, probs: Sequence[float] | None, content_type: str,
                 payload: Callable[[], bytes] | None) -> None:
        """One row: its time and probabilities, and its image's statistics unless ``payload`` is None
        (a record without input, as Output-only capture writes them)."""
        row = len(self.times)
        self.times.append(when)
        self.probs.append(probs)
        if payload is None:
            self.issues.add(Issue.NO_INPUT, where, "record has no endpointInput")
            return
        self.content_types[media_type(content_type) or "(none)"] += 1
        try:
            data = payload()
            pixels = decode_image(data)
        except (CaptureFormatError, ImageDecodeError) as exc:
            self.issues.add(Issue.BAD_IMAGE, where, str(exc)[:200])
            return
        self.pending.append((row, pixels))
        self.pending_bytes += pixels.nbytes
        if len(self.pending) >= IMAGE_BATCH or self.pending_bytes >= IMAGE_BATCH_BYTES:
            self._flush_images()
        if probs is not None:
            self._consider_thumbnail(probs, when, content_type, data, where)

    def _probabilities(self, where: str, record: CaptureRecord) -> Sequence[float] | None:
        side = record.endpoint_output
        if side is None:
            self.issues.add(Issue.NO_OUTPUT, where, "record has no endpointOutput")
            return None
        try:
            probs = parse_probabilities(side)
        except (OutputFormatError, CaptureFormatError) as exc:
            self.issues.add(Issue.BAD_OUTPUT, where, str(exc)[:200])
            return None
        return self._checked_count(where, probs)

    def _checked_count(self, where: str, probs: Sequence[float]) -> Sequence[float] | None:
        if len(probs) != self.options.num_classes:
            kind = Issue.TOO_FEW_CLASSES if len(probs) < self.options.num_classes else Issue.TOO_MANY_CLASSES
            self.issues.add(kind, where,
                            f"{len(probs)} probabilities, expected {self.options.num_classes}")
            return None
        return probs

    def _consider_thumbnail(self, probs: Sequence[float], when: float, content_type: str, data: bytes,
                            where: str) -> None:
        limit = self.options.max_thumbnails
        if limit <= 0:
            return
        confidence = max(probs)
        if len(self.thumbs) < limit or -self.thumbs[0][0] > confidence:
            thumb = Thumbnail(confidence, when, list(probs).index(confidence), content_type, data, where)
            item = (-confidence, -when, len(self.times), thumb)
            if len(self.thumbs) < limit:
                heapq.heappush(self.thumbs, item)
            else:
                heapq.heapreplace(self.thumbs, item)

    def _flush_images(self) -> None:
        if not self.pending:
            return
        rows = np.fromiter((r for r, _ in self.pending), dtype=np.int64, count=len(self.pending))
        self.image_index.append(rows)
        self.image_rows.append(image_stats([p for _, p in self.pending]))
        self.pending.clear()
        self.pending_bytes = 0

    def finish(self) -> CaptureColumns:
        self._flush_images()
        k = self.options.num_classes
        n = len(self.times)
        probs = np.full((n, k), np.nan, dtype=np.float32)
        for i, p in enumerate(self.probs):
            if p is not None:
                probs[i] = p
        images = np.full((n, len(IMAGE_FEATURES)), np.nan)
        for rows, stats in zip(self.image_index, self.image_rows, strict=True):
            images[rows] = stats
        return CaptureColumns(k, np.asarray(self.times, dtype=np.float64), probs, images,
                              self.content_types, self.issues, [t[3] for t in self.thumbs],
                              self.out_of_window, 1)


def _given(data: bytes) -> Callable[[], bytes]:
    """The payload of a row whose image bytes are already in hand (one item of a batch request)."""
    return lambda: data


def after_window(capture: CaptureFile, options: ScanOptions) -> bool:
    """A file starts at its first event, so one that starts at or after ``until`` holds nothing to read."""
    return options.until is not None and capture.first_event is not None and capture.first_event >= options.until


def scan_file(store: Store | None, capture: CaptureFile, options: ScanOptions,
              data: bytes | None = None) -> CaptureColumns:
    """Columns of one capture file (read from ``store``, or from ``data`` when already fetched)."""
    scanner = _FileScanner(options)
    name = capture.key.rsplit("/", 1)[-1]
    for number, record in iter_records(store, capture, scanner.issues, data):
        scanner.add(f"{name}:{number}", record)
    return scanner.finish()


def unreadable(capture: CaptureFile, options: ScanOptions, why: str) -> CaptureColumns:
    part = CaptureColumns.empty(options.num_classes)
    part.issues.add(Issue.UNREADABLE_FILE, capture.key.rsplit("/", 1)[-1], why[:200])
    return part


def _scan_in_worker(args: tuple[str, CaptureFile, ScanOptions]) -> CaptureColumns:
    store_uri, capture, options = args
    return scan_file(open_store(store_uri), capture, options)


def _scan_bytes_in_worker(args: tuple[CaptureFile, ScanOptions, bytes]) -> CaptureColumns:
    capture, options, data = args
    return scan_file(None, capture, options, data)


def scan_capture(store: Store, files: Sequence[CaptureFile], options: ScanOptions, *, workers: int | None = None,
                 show_progress: bool = True) -> CaptureColumns:
    """All files' columns merged in time order, on ``workers`` processes (default: CPUs).

    Local files are read by the workers themselves; remote (S3) files are downloaded a few
    ahead by threads here and handed to the workers as bytes.
    """
    workers = workers or os.cpu_count() or 1
    to_read = [f for f in files if not after_window(f, options)]
    parts: list[CaptureColumns] = []
    thumbnails: list[Thumbnail] = []
    bar = None  # created after the first part: the worker pool must fork before tqdm starts its thread
    try:
        for part in _scan_parts(store, to_read, options, workers):
            if bar is None:
                bar = progress(total=len(to_read), enabled=show_progress, desc="capture files", unit="file")
            # Keep only the overall lowest few images as parts arrive: memory stays bounded by
            # max_thumbnails images however many files (or however large the images) there are.
            thumbnails = _lowest(thumbnails + part.thumbnails, options.max_thumbnails)
            part.thumbnails = []
            parts.append(part)
            bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    merged = merge_columns(parts, options.num_classes, options.max_thumbnails)
    merged.thumbnails = thumbnails
    merged.files_skipped = len(files) - len(to_read)
    return merged


def _lowest(thumbnails: Iterable[Thumbnail], limit: int) -> list[Thumbnail]:
    return heapq.nsmallest(limit, thumbnails, key=lambda t: (t.confidence, t.time, t.where))


def _process_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    # fork shares the already-imported modules. With fork, the pool starts every worker at its
    # first task, so one is run at once, before the prefetch threads or the progress bar's
    # monitor thread exist: nothing can hold a lock in the parent while the workers fork.
    context = multiprocessing.get_context("fork") if os.name == "posix" else None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    pool.submit(int).result()
    return pool


def _scan_parts(store: Store, files: Sequence[CaptureFile], options: ScanOptions,
                workers: int) -> Iterator[CaptureColumns]:
    local = bool(files) and store.local_path(files[0].key) is not None
    workers = min(workers, len(files))
    if local and workers > 1:
        with _process_pool(workers) as pool:
            yield from pool.map(_scan_in_worker, ((store.uri, f, options) for f in files))
    elif local:
        for capture in files:
            yield scan_file(store, capture, options)
    else:
        yield from _scan_remote(store, files, options, workers)


def _scan_remote(store: Store, files: Sequence[CaptureFile], options: ScanOptions,
                 workers: int) -> Iterator[CaptureColumns]:
    pool = _process_pool(workers) if workers > 1 else None
    try:
        pending: deque[tuple[CaptureFile, Future[CaptureColumns] | None, bytes | None, str | None]] = deque()
        for capture, data, error in _prefetch(store, files):
            if error is not None or pool is None:
                pending.append((capture, None, data, error))
            else:
                assert data is not None
                pending.append((capture, pool.submit(_scan_bytes_in_worker, (capture, options, data)), None, None))
            while len(pending) > max(1, 2 * workers) or (pending and pending[0][1] is None):
                yield _finish(pending.popleft(), options)
        while pending:
            yield _finish(pending.popleft(), options)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _finish(item: tuple[CaptureFile, Future[CaptureColumns] | None, bytes | None, str | None],
            options: ScanOptions) -> CaptureColumns:
    capture, future, data, error = item
    if error is not None:
        return unreadable(capture, options, error)
    if future is not None:
        return future.result()
    return scan_file(None, capture, options, data)


def _prefetch(store: Store, files: Sequence[CaptureFile]) -> Iterator[tuple[CaptureFile, bytes | None, str | None]]:
    """Each file's bytes (or why it could not be read), in order, downloaded ``PREFETCH`` ahead."""
    with ThreadPoolExecutor(max_workers=PREFETCH) as fetchers:
        window: deque[tuple[CaptureFile, Future[bytes]]] = deque()
        upcoming = iter(files)
        for capture in upcoming:
            window.append((capture, fetchers.submit(store.get_bytes, capture.key)))
            if len(window) >= PREFETCH:
                break
        while window:
            capture, future = window.popleft()
            following = next(upcoming, None)
            if following is not None:
                window.append((following, fetchers.submit(store.get_bytes, following.key)))
            try:
                yield capture, future.result(), None
            except StoreError as exc:
                LOG.info("could not read capture file %s: %s", capture.uri, exc.message)  # counted, reported
                yield capture, None, exc.message


def detect_class_count(store: Store, files: Iterable[CaptureFile], *, max_records: int = 1000) -> int | None:
    """The most common number of probabilities among the first usable outputs (when there is no baseline)."""
    seen: Counter[int] = Counter()
    scratch = CaptureIssues()
    for capture in files:
        for _, record in iter_records(store, capture, scratch):
            if record.endpoint_output is None:
                continue
            try:
                seen[len(parse_probabilities(record.endpoint_output))] += 1
            except (OutputFormatError, CaptureFormatError):
                continue
            if sum(seen.values()) >= max_records:
                return seen.most_common(1)[0][0]
    return seen.most_common(1)[0][0] if seen else None
