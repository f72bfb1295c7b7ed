"""Quality of a classifier's probabilities: one pure function per statistic.

All take ``probs`` (float [n, k], rows summing to 1) and ``labels`` (int [n]) as numpy
arrays and return plain JSON-ready values, so ``metrics.json`` and ``model.json`` are
built from the same numbers. "Confidence" is the top probability, the quantity the
workflow's filter compares with its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Z95 = 1.959963984540054


def accuracy_ci(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval: unlike the normal approximation it stays inside [0, 1] near 100 %."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, k: int) -> list[list[int]]:
    """Rows are true classes, columns predicted classes."""
    import numpy as np

    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (labels, preds), 1)
    return cm.tolist()


def per_class(cm: list[list[int]], classes: Sequence[str]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    for i, name in enumerate(classes):
        tp = cm[i][i]
        predicted = sum(row[i] for row in cm)
        actual = sum(cm[i])
        out[name] = {"precision": tp / predicted if predicted else 0.0,
                     "recall": tp / actual if actual else 0.0, "support": actual}
    return out


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Per confidence bin: mean confidence, accuracy and count (empty bins report 0)."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    # Bin i holds (edge_i, edge_i+1]; confidence 0 (impossible for a softmax) falls into bin 0.
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    acc_sum = np.bincount(which, weights=correct.astype(float), minlength=bins)
    safe = np.maximum(count, 1)
    return {"bin_edges": [round(float(e), 10) for e in edges],
            "confidence": (conf_sum / safe).tolist(), "accuracy": (acc_sum / safe).tolist(),
            "count": count.astype(int).tolist()}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Count-weighted mean gap between confidence and accuracy over equal-width bins."""
    rel = reliability(probs, labels, bins)
    n = sum(rel["count"])
    if n == 0:
        return 0.0
    return float(sum(c * abs(a - f)
                     for c, a, f in zip(rel["count"], rel["accuracy"], rel["confidence"], strict=True)) / n)


def coverage_precision(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float | int]:
    """Share of images the filter lets through (top probability >= threshold), and accuracy among them."""
    conf = probs.max(axis=1)
    kept = conf >= threshold
    n_kept = int(kept.sum())
    correct = int((probs.argmax(axis=1)[kept] == labels[kept]).sum())
    return {"threshold": float(threshold), "coverage": n_kept / len(labels) if len(labels) else 0.0,
            "precision": correct / n_kept if n_kept else 1.0, "kept": n_kept, "correct": correct}


def coverage_precision_curve(probs: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    """Coverage and precision for every distinct confidence used as the threshold, highest first."""
    import numpy as np

    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    order = np.argsort(-conf, kind="stable")
    conf_sorted = conf[order]
    cum_correct = np.cumsum(correct[order])
    n = np.arange(1, len(conf) + 1)
    # Keep only the last index of each run of equal confidences: a threshold keeps all ties.
    last = np.r_[conf_sorted[1:] != conf_sorted[:-1], True]
    return {"threshold": conf_sorted[last].tolist(), "coverage": (n[last] / len(conf)).tolist(),
            "precision": (cum_correct[last] / n[last]).tolist()}


def classification_report(probs: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                          threshold: float) -> dict[str, Any]:
    """Everything ``metrics.test`` holds."""
    preds = probs.argmax(axis=1)
    n = len(labels)
    correct = int((preds == labels).sum())
    low, high = accuracy_ci(correct, n)
    cm = confusion_matrix(labels, preds, len(classes))
    return {
        "n": n, "accuracy": correct / n if n else 0.0, "accuracy_ci95": [low, high],
        "per_class": per_class(cm, classes), "confusion_matrix": cm,
        "ece": expected_calibration_error(probs, labels),
        "at_threshold": coverage_precision(probs, labels, threshold),
        "log_loss": log_loss(probs, labels),
    }


def log_loss(probs: np.ndarray, labels: np.ndarray) -> float:
    import numpy as np

    if len(labels) == 0:
        return 0.0
    picked = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())
