"""Per time bucket: volume, confidence, share below the threshold, class mix, estimated accuracy."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

import numpy as np

from scones.errors import UsageError
from scones.monitor.calibration import Reliability
from scones.monitor.scan import CaptureColumns
from scones.monitor.stats.drift import PSI_THRESHOLD, psi

#: Bucket widths tried, smallest first, until the capture spans at most ``MAX_AUTO_BUCKETS``.
#: Capture times have whole-second resolution, so one second is the finest useful width.
AUTO_WIDTHS: Final = (1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_AUTO_BUCKETS: Final = 48
#: Above this many buckets only the non-empty ones are kept (a stray timestamp years away must not
#: allocate millions of empty buckets).
MAX_BUCKETS: Final = 2000
_UNITS: Final = MappingProxyType({"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400})


def parse_bucket(text: str) -> int | None:
    """``"auto"`` -> None; ``"15m"``, ``"1h"``, ``"1d"``, ``"90s"`` -> seconds."""
    text = text.strip().lower()
    if text == "auto":
        return None
    match = re.fullmatch(r"(\d+)\s*(s|m|min|h|d)", text)
    if not match or int(match.group(1)) <= 0:
        raise UsageError(f"Bucket width {text!r} is not understood", hint="use auto, or e.g. 90s, 15m, 1h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def choose_width(start: float, end: float) -> int:
    span = max(end - start, 1.0)
    fitting = next((w for w in AUTO_WIDTHS if span / w <= MAX_AUTO_BUCKETS), None)
    if fitting is not None:
        return fitting
    days = math.ceil(span / MAX_AUTO_BUCKETS / 86400)
    return days * 86400


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    end: datetime
    count: int
    answered: int
    confidence_mean: float
    confidence_p10: float
    confidence_p50: float
    confidence_p90: float
    below_threshold: float
    class_share: tuple[float, ...]
    estimated_accuracy: float
    #: Per feature, the bucket's PSI against the baseline (NaN when the bucket is too small to test).
    psi: tuple[tuple[str, float], ...] = ()

    def to_dict(self, classes: Sequence[str]) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end), "count": self.count, "answered": self.answered,
                "confidence": {"mean": _num(self.confidence_mean), "p10": _num(self.confidence_p10),
                               "p50": _num(self.confidence_p50), "p90": _num(self.confidence_p90)},
                "share_below_threshold": _num(self.below_threshold),
                "class_share": {c: _num(s) for c, s in zip(classes, self.class_share, strict=True)},
                "estimated_accuracy": _num(self.estimated_accuracy),
                "psi": {name: _num(value) for name, value in self.psi},
                "latency_ms": None}


def buckets(columns: CaptureColumns, threshold: float, reliability: Reliability | None,
            width: int | None = None, *, references: Mapping[str, np.ndarray] | None = None,
            features: Mapping[str, np.ndarray] | None = None) -> tuple[int, list[TimeBucket]]:
    """``(width in seconds, buckets)``; empty buckets between busy ones are kept so gaps show.

    ``references`` (baseline samples) and ``features`` (the capture's columns, aligned with
    ``columns.time``) add each bucket's PSI per feature, which shows *when* a drift began.
    """
    references = references or {}
    features = features or {}
    if columns.count == 0:
        return width or AUTO_WIDTHS[0], []
    start, end = float(columns.time[0]), float(columns.time[-1])
    width = width or choose_width(start, end)
    first = math.floor(start / width) * width
    index = ((columns.time - first) // width).astype(np.int64)
    confidence, predicted = columns.confidence, columns.predicted
    expected = (reliability.expected_correct(np.nan_to_num(confidence)) if reliability is not None
                else confidence)
    wanted = (np.arange(int(index[-1]) + 1) if index[-1] < MAX_BUCKETS else np.unique(index))
    lows = np.searchsorted(index, wanted, side="left")
    highs = np.searchsorted(index, wanted, side="right")
    k = columns.num_classes
    out: list[TimeBucket] = []
    for b, lo, hi in zip(wanted.tolist(), lows.tolist(), highs.tolist(), strict=True):
        conf = confidence[lo:hi]
        ok = ~np.isnan(conf)
        conf = conf[ok]
        pred = predicted[lo:hi][ok]
        shares = (np.bincount(pred, minlength=k) / pred.size) if pred.size else np.full(k, np.nan)
        q = np.quantile(conf, [0.1, 0.5, 0.9]) if conf.size else np.full(3, np.nan)
        out.append(TimeBucket(
            start=datetime.fromtimestamp(first + b * width, UTC),
            end=datetime.fromtimestamp(first + (b + 1) * width, UTC),
            count=hi - lo, answered=int(conf.size),
            confidence_mean=float(conf.mean()) if conf.size else math.nan,
            confidence_p10=float(q[0]), confidence_p50=float(q[1]), confidence_p90=float(q[2]),
            below_threshold=float(np.mean(conf < threshold)) if conf.size else math.nan,
            class_share=tuple(float(s) for s in shares),
            estimated_accuracy=float(expected[lo:hi][ok].mean()) if conf.size else math.nan,
            psi=tuple((name, psi(references[name], values[lo:hi], PSI_THRESHOLD).score)
                      for name, values in features.items() if name in references),
        ))
    return width, out


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)
