"""The SageMaker endpoints for the console: traffic, latency, and the Data Capture records with their images.

Invocations per minute come from sampling each endpoint's request counter (``InvocationRates``,
every few seconds while ``scones up`` runs); latency from its histogram; the captured records
are read newest first from the capture folder, ``<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``,
through the one reader of the format (``scones.capture_format``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scones.capture_format import CaptureFormatError, CaptureRecord, parse_capture_key
from scones.errors import SconesError
from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.errors import BadRequest, NotFound
from scones.gateway.console.images import image_type
from scones.store import LocalStore, check_key, open_store

if TYPE_CHECKING:
    from scones.serve.app import Endpoint

#: filterInferences' own default (``scones.functions.helper.DEFAULT_THRESHOLD``).
THRESHOLD_FUNCTION: Final = "filterInferences"
REPORT_KEY: Final = "monitor/report/report.html"
CAPTURE_PAGE: Final = 20
#: Minutes of invocation counts kept and shown.
MINUTES: Final = 60
ROUTES: Final = ("runtime", "invocations")


class InvocationRates:
    """Each endpoint's request count, sampled: ``per_minute`` turns the samples into counts per minute."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        self.endpoints = endpoints
        self._samples: dict[str, deque[tuple[float, int]]] = {n: deque(maxlen=MINUTES * 60) for n in endpoints}
        self._lock = threading.Lock()

    def sample(self, now: float | None = None) -> None:
        at = time.time() if now is None else now
        with self._lock:
            for name, endpoint in self.endpoints.items():
                samples = self._samples.setdefault(name, deque(maxlen=MINUTES * 60))
                total = requests_of(endpoint)
                if samples and samples[-1][1] == total and at - samples[-1][0] < 60:
                    continue  # nothing new: one sample a minute is enough to keep the baseline
                samples.append((at, total))

    def per_minute(self, name: str, now: float | None = None) -> list[dict[str, Any]]:
        """``[{"minute": epoch, "count": n}]`` for the last ``MINUTES`` minutes, oldest first."""
        at = time.time() if now is None else now
        self.sample(at)
        with self._lock:
            samples = list(self._samples.get(name, ()))
        this_minute = int(at // 60) * 60
        counts = {this_minute - 60 * i: 0 for i in range(MINUTES)}
        for (_, before), (when, after) in zip(samples, samples[1:], strict=False):
            minute = int(when // 60) * 60
            if minute in counts:
                counts[minute] += max(0, after - before)
        return [{"minute": m, "count": counts[m]} for m in sorted(counts)]


def requests_of(endpoint: Endpoint) -> int:
    return sum(n for (route, _), n in list(endpoint.metrics.requests.items()) if route in ROUTES)


def latency_of(endpoint: Endpoint) -> dict[str, Any]:
    """Mean, and p50/p99 as the upper bound of their histogram bucket (the histogram keeps no more)."""
    buckets: tuple[float, ...] = ()
    counts: list[int] = []
    total = 0.0
    n = 0
    for route in ROUTES:
        hist = endpoint.metrics.latency.get(route)
        if hist is None:
            continue
        buckets = hist.buckets
        counts = [a + b for a, b in zip(counts or [0] * len(hist.counts), hist.counts, strict=True)]
        total += hist.total
        n += hist.n
    if n == 0:
        return {"count": 0, "meanMs": None, "p50Ms": None, "p99Ms": None}

    def upper(p: float) -> float | None:
        running = 0
        for bound, count in zip((*buckets, float("inf")), counts, strict=True):
            running += count
            if running >= p * n:
                return None if bound == float("inf") else bound * 1000
        return None

    return {"count": n, "meanMs": round(total / n * 1000, 3), "p50Ms": upper(0.5), "p99Ms": upper(0.99)}


def threshold(ctx: ConsoleContext) -> tuple[float, str]:
    """The filter function's THRESHOLD, or its default; and where the value came from."""
    from scones.functions.helper import DEFAULT_THRESHOLD, threshold_from_env

    config = ctx.runtime.functions.get(THRESHOLD_FUNCTION)
    raw = dict(getattr(config, "environment", {}) or {}).get("THRESHOLD") if config is not None else None
    if raw:
        try:
            return threshold_from_env({"THRESHOLD": raw}), f"{THRESHOLD_FUNCTION} THRESHOLD"
        except SconesError:
            pass
    return DEFAULT_THRESHOLD, "default"


def _endpoint(ctx: ConsoleContext, name: str) -> Endpoint:
    endpoint = ctx.endpoints.get(name)
    if endpoint is None:
        raise NotFound(f"No endpoint named {name!r}")
    return endpoint


def _classes(endpoint: Endpoint) -> list[str] | None:
    predictor = endpoint.predictor
    return list(predictor.classes) if predictor is not None else None


def endpoints(ctx: ConsoleContext) -> dict[str, Any]:
    out = []
    for name, endpoint in sorted(ctx.endpoints.items()):
        out.append({"name": name, "variant": endpoint.config.variant, "model": str(endpoint.config.model),
                    "ready": endpoint.ready, "invocations": requests_of(endpoint),
                    "errors": sum(endpoint.metrics.errors.values()), "latency": latency_of(endpoint)})
    return {"endpoints": out}


def endpoint(ctx: ConsoleContext, name: str, rates: InvocationRates) -> dict[str, Any]:
    ep = _endpoint(ctx, name)
    value, source = threshold(ctx)
    report = Path(ctx.store_root) / ctx.bucket / REPORT_KEY
    capture = ep.config.capture
    return {"name": name, "variant": ep.config.variant, "model": str(ep.config.model), "ready": ep.ready,
            "classes": _classes(ep), "threshold": value, "thresholdSource": source,
            "invocations": requests_of(ep), "errors": sum(ep.metrics.errors.values()),
            "perMinute": rates.per_minute(name), "latency": latency_of(ep),
            "capture": None if capture is None else capture.destination,
            "report": {"bucket": ctx.bucket, "key": REPORT_KEY} if report.is_file() else None}


def captures(ctx: ConsoleContext, name: str, cursor: str | None = None, limit: int = CAPTURE_PAGE) -> dict[str, Any]:
    """Captured records, newest first, ``limit`` at a time; ``next`` continues after the last one."""
    ep = _endpoint(ctx, name)
    limit = max(1, min(limit, 100))
    capture = ep.config.capture
    if capture is None:
        return {"records": [], "next": None, "note": "Data Capture is off for this endpoint"}
    store = open_store(capture.destination)
    if not isinstance(store, LocalStore):
        return {"records": [], "next": None, "note": f"captures are in {store.uri}, not on this machine"}
    root = store.base / ep.config.endpoint_name / ep.config.variant
    start_key, start_line = _decode_cursor(cursor, ep) if cursor else (None, None)
    classes = _classes(ep)
    value, _ = threshold(ctx)
    records: list[dict[str, Any]] = []
    skipped = 0
    for key in _files_newest_first(root):
        relative = f"{ep.config.endpoint_name}/{ep.config.variant}/{key}"
        if start_key is not None and relative > start_key:
            continue
        try:
            lines = (root / key).read_bytes().splitlines()
        except OSError:
            continue  # rotated or removed meanwhile
        upto = len(lines) if start_key is None or relative != start_key else min(start_line or 0, len(lines))
        start_key = None
        for i in range(upto - 1, -1, -1):
            try:
                record = CaptureRecord.from_json_line(lines[i])
            except CaptureFormatError:
                skipped += 1
                continue
            records.append(_record(record, classes, value))
            if len(records) == limit:  # the next page goes on below line i of this file
                return {"records": records, "next": _encode_cursor(relative, i), "skipped": skipped}
    return {"records": records, "next": None, "skipped": skipped}


def _files_newest_first(root: Path) -> Iterator[str]:
    """``yyyy/mm/dd/hh/<file>.jsonl`` keys below ``root``, newest first (the names sort by time)."""
    def names(folder: Path, files: bool) -> list[str]:
        try:
            with os.scandir(folder) as entries:
                if files:
                    return sorted((e.name for e in entries if e.name.endswith(".jsonl") and e.is_file()),
                                  reverse=True)
                return sorted((e.name for e in entries if e.name.isdigit() and e.is_dir(follow_symlinks=False)),
                              reverse=True)
        except OSError:
            return []

    for year in names(root, False):
        for month in names(root / year, False):
            for day in names(root / year / month, False):
                for hour in names(root / year / month / day, False):
                    for file in names(root / year / month / day / hour, True):
                        yield f"{year}/{month}/{day}/{hour}/{file}"


def _record(record: CaptureRecord, classes: list[str] | None, threshold_value: float) -> dict[str, Any]:
    image = None
    content_type = None
    if record.endpoint_input is not None:
        content_type = record.endpoint_input.observed_content_type
        try:
            data = record.endpoint_input.payload()
        except CaptureFormatError:
            data = b""
        media = image_type(data)
        if media is not None:
            image = {"type": media, "base64": base64.b64encode(data).decode("ascii")}
    probabilities = None
    if record.endpoint_output is not None:
        try:
            value = json.loads(record.endpoint_output.payload())
        except (CaptureFormatError, ValueError, binascii.Error):
            value = None
        if isinstance(value, list) and value and isinstance(value[0], list):
            value = value[0]  # a batch: its first image
        if isinstance(value, list) and value and all(isinstance(p, (int, float)) for p in value):
            probabilities = [float(p) for p in value]
    predicted = None
    if probabilities:
        index = max(range(len(probabilities)), key=probabilities.__getitem__)
        confidence = probabilities[index]
        predicted = {"index": index, "name": classes[index] if classes and index < len(classes) else None,
                     "confidence": confidence, "passed": confidence >= threshold_value}
    return {"eventId": record.event_id, "inferenceTime": record.inference_time.isoformat(),
            "inferenceId": record.inference_id, "contentType": content_type, "image": image,
            "probabilities": probabilities, "prediction": predicted}


def _encode_cursor(key: str, line: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, line]).encode()).decode("ascii")


def _decode_cursor(cursor: str, ep: Endpoint) -> tuple[str, int]:
    try:
        key, line = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        check_key(str(key))
        endpoint_name, variant, _ = parse_capture_key(str(key))
        if (endpoint_name, variant) != (ep.config.endpoint_name, ep.config.variant) or not isinstance(line, int):
            raise ValueError("another endpoint's cursor")
        return str(key), line
    except (ValueError, TypeError, UnicodeError, SconesError) as exc:
        raise BadRequest("The cursor is not one this console gave out; start from the newest records") from exc
