"""Estimating accuracy without labels from captured confidences (confidence-based performance estimation).

A calibrated model is right about as often as it is confident. The reliability
table measured on labelled validation data (``metrics.reliability`` in model.json:
bin edges over top confidence, and per bin the observed accuracy and count) maps
each captured confidence to the accuracy seen at that confidence; the mean of those
is the expected accuracy of the captured traffic. Without a table the raw
confidence is used, which assumes a perfectly calibrated model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from scones.monitor.errors import BaselineError

NUM_BINS: Final = 10
#: Pseudo-observations at the bin's mean confidence added to each bin's accuracy.
PRIOR_WEIGHT: Final = 2.0


@dataclass(frozen=True)
class Reliability:
    bin_edges: tuple[float, ...]
    confidence: tuple[float, ...]
    accuracy: tuple[float, ...]
    count: tuple[int, ...]

    @classmethod
    def measure(cls, confidence: np.ndarray, correct: np.ndarray, bins: int = NUM_BINS) -> Reliability:
        """The table from labelled predictions: equal-width bins over [0, 1], bin i holding (edge_i, edge_i+1].

        The same binning as the trainer's ``metrics.reliability``, so either table reads the same way.
        """
        edges = np.linspace(0.0, 1.0, bins + 1)
        idx = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
        counts = np.bincount(idx, minlength=bins)
        conf_sum = np.bincount(idx, weights=confidence, minlength=bins)
        corr_sum = np.bincount(idx, weights=correct.astype(np.float64), minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_conf = np.where(counts > 0, conf_sum / np.maximum(counts, 1), 0.0)
            accuracy = np.where(counts > 0, corr_sum / np.maximum(counts, 1), 0.0)
        return cls(tuple(float(e) for e in edges), tuple(float(c) for c in mean_conf),
                   tuple(float(a) for a in accuracy), tuple(int(c) for c in counts))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Reliability:
        try:
            table = cls(tuple(float(v) for v in raw["bin_edges"]), tuple(float(v) for v in raw["confidence"]),
                        tuple(float(v) for v in raw["accuracy"]), tuple(int(v) for v in raw["count"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"reliability table is malformed: {exc!r}") from exc
        bins = len(table.bin_edges) - 1
        if bins < 1 or not (len(table.confidence) == len(table.accuracy) == len(table.count) == bins):
            raise BaselineError("reliability table needs n+1 bin_edges and n confidence/accuracy/count values")
        return table

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        return {"bin_edges": list(self.bin_edges), "confidence": list(self.confidence),
                "accuracy": list(self.accuracy), "count": list(self.count)}

    def expected_correct(self, confidence: np.ndarray) -> np.ndarray:
        """Per prediction, the validation accuracy at its confidence.

        A bin's accuracy is shrunk towards the bin's mean confidence by ``PRIOR_WEIGHT``
        pseudo-observations, so a bin that held two validation images cannot claim 0 % or
        100 %; an empty bin falls back to the prediction's own confidence.
        """
        edges = np.asarray(self.bin_edges)
        bins = edges.size - 1
        idx = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
        count = np.asarray(self.count, dtype=np.float64)
        smoothed = ((np.asarray(self.accuracy) * count + PRIOR_WEIGHT * np.asarray(self.confidence))
                    / (count + PRIOR_WEIGHT))
        return np.where(count[idx] > 0, smoothed[idx], confidence)


def estimate_accuracy(confidence: np.ndarray, reliability: Reliability | None) -> float:
    """Expected accuracy of predictions with these top confidences (NaN when there are none)."""
    conf = confidence[~np.isnan(confidence)]
    if conf.size == 0:
        return math.nan
    if reliability is None:
        return float(conf.mean())
    return float(reliability.expected_correct(conf).mean())
