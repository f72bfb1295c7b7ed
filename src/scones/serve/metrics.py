"""Counters and histograms for ``/metrics`` in Prometheus' text format (version 0.0.4).

Small on purpose: a handful of series, one lock, rendered on demand. Updated
from the event loop and from the capture writer's thread.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Final

LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) and not float(value).is_integer() else str(int(value))


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def render(self, name: str, labels: tuple[tuple[str, str], ...] = ()) -> list[str]:
        lines, running = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else repr(float(bound))
            lines.append(f"{name}_bucket{_labels((*labels, ('le', le)))} {running}")
        lines.append(f"{name}_sum{_labels(labels)} {self.total!r}")
        lines.append(f"{name}_count{_labels(labels)} {self.n}")
        return lines


class Metrics:
    """What the endpoint reports about itself. Gauges are read from callbacks when rendered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.errors: defaultdict[str, int] = defaultdict(int)
        self.latency: dict[str, Histogram] = {}
        self.batch_size = Histogram(BATCH_BUCKETS)
        self.images = 0
        self.capture: defaultdict[str, int] = defaultdict(int)
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, str(status))] += 1
            hist = self.latency.get(route)
            if hist is None:
                hist = self.latency[route] = Histogram(LATENCY_BUCKETS)
            hist.observe(seconds)

    def count_error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def observe_batch(self, size: int) -> None:
        with self._lock:
            self.batch_size.observe(size)
            self.images += size

    def count_capture(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.capture[what] += n

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        with self._lock:
            out = ["# HELP scones_requests_total Invocation and health requests by route and HTTP status.",
                   "# TYPE scones_requests_total counter"]
            out += [f"scones_requests_total{_labels((('route', r), ('status', s)))} {n}"
                    for (r, s), n in sorted(self.requests.items())]
            out += ["# HELP scones_request_duration_seconds Time from request received to response ready.",
                    "# TYPE scones_request_duration_seconds histogram"]
            for route, hist in sorted(self.latency.items()):
                out += hist.render("scones_request_duration_seconds", (("route", route),))
            out += ["# HELP scones_errors_total Requests answered with an error, by kind.",
                    "# TYPE scones_errors_total counter"]
            out += [f"scones_errors_total{_labels([('kind', k)])} {n}" for k, n in sorted(self.errors.items())]
            out += ["# HELP scones_batch_size Images per model run.", "# TYPE scones_batch_size histogram"]
            out += self.batch_size.render("scones_batch_size")
            out += ["# HELP scones_images_total Images run through the model.", "# TYPE scones_images_total counter",
                    f"scones_images_total {self.images}"]
            out += ["# HELP scones_capture_records_total Data Capture records by outcome.",
                    "# TYPE scones_capture_records_total counter"]
            for what in ("queued", "written", "dropped", "failed", "sampled_out"):
                out.append(f"scones_capture_records_total{_labels([('outcome', what)])} {self.capture[what]}")
            gauges = list(self.gauges.items())
        for name, (help_text, read) in sorted(gauges):
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {_num(read())}"]
        return "\n".join(out) + "\n"
