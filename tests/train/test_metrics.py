from __future__ import annotations

import numpy as np
import pytest

from scones.train import metrics


def probs_of(conf_and_pred: list[tuple[float, int]], k: int = 2) -> np.ndarray:
    rows = []
    for conf, pred in conf_and_pred:
        row = np.full(k, (1 - conf) / (k - 1))
        row[pred] = conf
        rows.append(row)
    return np.array(rows)


def test_wilson_interval_known_values() -> None:
    low, high = metrics.accuracy_ci(194, 200)
    # Wilson 95 % interval for 194/200 by hand: centre 0.96114, half-width 0.02504
    assert low == pytest.approx(0.93611, abs=1e-4)
    assert high == pytest.approx(0.98618, abs=1e-4)
    assert metrics.accuracy_ci(10, 10)[1] == pytest.approx(1.0)
    assert metrics.accuracy_ci(0, 10)[0] == pytest.approx(0.0)


def test_confusion_and_per_class() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2])
    preds = np.array([0, 0, 1, 1, 1, 0])
    cm = metrics.confusion_matrix(labels, preds, 3)
    assert cm == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    pc = metrics.per_class(cm, ["a", "b", "c"])
    assert pc["a"] == {"precision": 2 / 3, "recall": 2 / 3, "support": 3}
    assert pc["b"]["precision"] == 2 / 3 and pc["b"]["recall"] == 1.0
    assert pc["c"] == {"precision": 0.0, "recall": 0.0, "support": 1}


def test_reliability_bins_and_ece() -> None:
    probs = probs_of([(0.95, 0), (0.95, 1), (0.65, 0), (0.55, 1)])
    labels = np.array([0, 0, 0, 0])
    rel = metrics.reliability(probs, labels)
    assert len(rel["bin_edges"]) == 11 and rel["bin_edges"][0] == 0.0 and rel["bin_edges"][-1] == 1.0
    assert rel["count"] == [0, 0, 0, 0, 0, 1, 1, 0, 0, 2]
    assert rel["confidence"][9] == pytest.approx(0.95)
    assert rel["accuracy"][9] == 0.5 and rel["accuracy"][6] == 1.0 and rel["accuracy"][5] == 0.0
    ece = metrics.expected_calibration_error(probs, labels)
    assert ece == pytest.approx((2 * 0.45 + 0.35 + 0.55) / 4)


def test_coverage_precision_at_threshold_and_curve() -> None:
    probs = probs_of([(0.99, 0), (0.97, 1), (0.93, 0), (0.80, 1), (0.60, 0)])
    labels = np.array([0, 0, 0, 1, 1])
    at = metrics.coverage_precision(probs, labels, 0.93)
    assert at["coverage"] == 0.6 and at["precision"] == pytest.approx(2 / 3) and at["kept"] == 3
    curve = metrics.coverage_precision_curve(probs, labels)
    assert curve["threshold"] == pytest.approx([0.99, 0.97, 0.93, 0.80, 0.60])
    assert curve["coverage"] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["precision"] == pytest.approx([1.0, 0.5, 2 / 3, 0.75, 0.6])
    nothing = metrics.coverage_precision(probs, labels, 0.999)
    assert nothing["coverage"] == 0.0 and nothing["kept"] == 0


def test_curve_keeps_ties_together() -> None:
    probs = probs_of([(0.9, 0), (0.9, 1), (0.7, 0)])
    curve = metrics.coverage_precision_curve(probs, np.array([0, 0, 0]))
    assert curve["threshold"] == pytest.approx([0.9, 0.7])
    assert curve["coverage"] == pytest.approx([2 / 3, 1.0])


def test_classification_report_shape() -> None:
    probs = probs_of([(0.99, 0), (0.8, 1), (0.6, 1)])
    report = metrics.classification_report(probs, np.array([0, 1, 0]), ["x", "y"], 0.93)
    assert report["accuracy"] == pytest.approx(2 / 3)
    assert report["confusion_matrix"] == [[1, 1], [0, 1]]
    assert set(report) >= {"accuracy_ci95", "per_class", "ece", "at_threshold"}
