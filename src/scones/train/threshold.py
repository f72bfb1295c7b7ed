"""Pick the filter's confidence threshold from validation probabilities, instead of by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scones.errors import UsageError
from scones.train.metrics import coverage_precision, coverage_precision_curve

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Recommendation:
    threshold: float
    target: str  # "precision" or "coverage"
    target_value: float
    validation_coverage: float
    validation_precision: float
    test_coverage: float
    test_precision: float
    achievable: bool


def recommend_threshold(val_probs: np.ndarray, val_labels: np.ndarray, test_probs: np.ndarray,
                        test_labels: np.ndarray, *, target_precision: float | None = None,
                        target_coverage: float | None = None) -> Recommendation:
    """The lowest threshold whose validation precision reaches ``target_precision`` (most coverage),
    or the highest threshold whose validation coverage reaches ``target_coverage`` (most precision).

    A precision target counts as met from that threshold upwards only if every higher threshold
    meets it too, so a single lucky image at the top cannot produce a recommendation.
    """
    if (target_precision is None) == (target_coverage is None):
        raise UsageError("Give exactly one of --target-precision and --target-coverage")
    target = target_precision if target_precision is not None else target_coverage
    assert target is not None
    if not 0.0 < target <= 1.0:
        raise UsageError(f"The target must lie in (0, 1], got {target}")
    curve = coverage_precision_curve(val_probs, val_labels)
    thresholds, coverage, precision = curve["threshold"], curve["coverage"], curve["precision"]
    achievable = True
    if target_precision is not None:
        chosen = None
        for i, p in enumerate(precision):  # from the highest threshold down
            if p < target_precision:
                break
            chosen = i
        if chosen is None:
            achievable, chosen = False, 0
        threshold = thresholds[chosen]
    else:
        chosen = next((i for i, c in enumerate(coverage) if c >= target), len(coverage) - 1)
        threshold = thresholds[chosen]
    val = coverage_precision(val_probs, val_labels, threshold)
    test = coverage_precision(test_probs, test_labels, threshold)
    return Recommendation(threshold=float(threshold),
                          target="precision" if target_precision is not None else "coverage",
                          target_value=float(target), validation_coverage=float(val["coverage"]),
                          validation_precision=float(val["precision"]), test_coverage=float(test["coverage"]),
                          test_precision=float(test["precision"]), achievable=achievable)
