from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from scones.monitor.errors import UnknownDriftTestError
from scones.monitor.stats.drift import DRIFT_TESTS, DriftResult, FeatureKind, chi_square, get_test, ks, linf, psi

RNG = np.random.default_rng(42)
REF = RNG.normal(0.5, 0.1, 400)
SAME = np.random.default_rng(7).normal(0.5, 0.1, 3000)
SHIFTED = np.random.default_rng(8).normal(0.35, 0.1, 3000)


@pytest.mark.parametrize("test", [psi, ks], ids=["psi", "ks"])
def test_numeric_tests_flag_a_shift_and_not_the_same_distribution(
        test: Callable[[np.ndarray, np.ndarray, float], DriftResult]) -> None:
    default = DRIFT_TESTS[test.__name__].default_threshold
    assert not test(REF, SAME, default).drifted
    shifted = test(REF, SHIFTED, default)
    assert shifted.drifted and shifted.threshold == default


def test_psi_scores_grow_with_the_shift_and_handle_constant_reference() -> None:
    small = psi(REF, REF + 0.02, 0.2).score
    large = psi(REF, REF + 0.1, 0.2).score
    assert 0 <= small < large
    constant = np.full(100, 32.0)
    assert psi(constant, constant, 0.2).score == pytest.approx(0.0, abs=1e-9)
    assert psi(constant, np.full(100, 64.0), 0.2).drifted


def test_ks_reports_p_value_and_statistic() -> None:
    result = ks(REF, SHIFTED, 0.05)
    assert result.score_name == "p_value" and result.score < 1e-6 and "statistic" in result.note


def test_categorical_tests() -> None:
    ref = {"bicycle": 100, "motorcycle": 100}
    assert not chi_square(ref, {"bicycle": 1010, "motorcycle": 990}, 0.05).drifted
    assert chi_square(ref, {"bicycle": 1800, "motorcycle": 200}, 0.05).drifted
    assert linf(ref, {"bicycle": 1800, "motorcycle": 200}, 0.1).score == pytest.approx(0.4)
    assert chi_square(ref, {"bicycle": 150, "motorcycle": 150, "unicycle": 100}, 0.05).drifted
    one = chi_square({"a": 50}, {"a": 70}, 0.05)
    assert not one.drifted and "one category" in one.note


def test_too_few_values_are_not_tested() -> None:
    result = ks(REF, SHIFTED[:5], 0.05)
    assert not result.ran and not result.drifted and "needs" in result.note and math.isnan(result.score)
    assert not psi(REF, np.array([np.nan] * 50), 0.2).ran


def test_registry_is_explicit_and_immutable() -> None:
    assert set(DRIFT_TESTS) == {"psi", "ks", "chi_square", "linf"}
    assert FeatureKind.NUMERIC in get_test("ks").kinds and FeatureKind.CATEGORICAL in get_test("linf").kinds
    with pytest.raises(TypeError):
        DRIFT_TESTS["x"] = DRIFT_TESTS["ks"]  # type: ignore[index]
    with pytest.raises(UnknownDriftTestError, match="chi_square, ks, linf, psi"):
        get_test("wasserstein")


def test_a_feature_drifts_only_when_every_test_that_ran_agrees() -> None:
    from scones.monitor.checks import FeatureDrift
    from scones.monitor.stats.drift import DriftResult

    significant = DriftResult("ks", 0.001, 0.01, True, "p_value")
    small = DriftResult("psi", 0.05, 0.25, False, "psi")
    large = DriftResult("psi", 0.6, 0.25, True, "psi")
    not_run = DriftResult("psi", math.nan, 0.25, False, "psi", "not run")
    assert not FeatureDrift("x", FeatureKind.NUMERIC, (small, significant)).drifted
    assert FeatureDrift("x", FeatureKind.NUMERIC, (large, significant)).drifted
    assert FeatureDrift("x", FeatureKind.NUMERIC, (not_run, significant)).drifted
    assert not FeatureDrift("x", FeatureKind.NUMERIC, (not_run,)).drifted
