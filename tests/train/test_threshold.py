from __future__ import annotations

import numpy as np
import pytest

from scones.errors import UsageError
from scones.train.threshold import recommend_threshold


def two_class(conf: list[float], correct: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    probs = np.array([[c, 1 - c] for c in conf])
    labels = np.array([0 if ok else 1 for ok in correct])
    return probs, labels


def test_precision_target_picks_lowest_threshold_that_holds_all_the_way_up() -> None:
    val = two_class([0.99, 0.98, 0.95, 0.90, 0.85, 0.70], [True, True, True, True, False, True])
    test = two_class([0.99, 0.96, 0.91, 0.80], [True, True, False, True])
    rec = recommend_threshold(*val, *test, target_precision=0.99)
    assert rec.threshold == pytest.approx(0.90)
    assert rec.validation_coverage == pytest.approx(4 / 6) and rec.validation_precision == 1.0
    assert rec.test_coverage == pytest.approx(3 / 4) and rec.test_precision == pytest.approx(2 / 3)
    assert rec.achievable


def test_coverage_target() -> None:
    val = two_class([0.99, 0.98, 0.95, 0.90, 0.85], [True, True, True, False, True])
    rec = recommend_threshold(*val, *val, target_coverage=0.6)
    assert rec.threshold == pytest.approx(0.95) and rec.validation_coverage == pytest.approx(0.6)


def test_unreachable_precision_is_flagged() -> None:
    val = two_class([0.99, 0.9], [False, True])
    rec = recommend_threshold(*val, *val, target_precision=0.99)
    assert not rec.achievable and rec.threshold == pytest.approx(0.99)


@pytest.mark.parametrize("kwargs", [{}, {"target_precision": 0.9, "target_coverage": 0.9},
                                    {"target_precision": 1.5}], ids=["none", "both", "out-of-range"])
def test_bad_targets(kwargs: dict[str, float]) -> None:
    val = two_class([0.9], [True])
    with pytest.raises(UsageError):
        recommend_threshold(*val, *val, **kwargs)
