"""Drift tests: one pure function each, ``(reference, current, threshold) -> DriftResult``.

Every test is declared next to its function with its name, default threshold, the
feature kinds it applies to and whether a *low* score means drift (p-values) or a
*high* one (distances). ``DRIFT_TESTS`` is built here on purpose, from those
declarations; nothing registers itself at import. ``reference`` always comes first.

Default thresholds are deliberately strict (p < 0.01, PSI ≥ 0.25): a report runs
about fifteen tests, and at p < 0.05 each, unchanged traffic would raise a
violation in roughly half of all reports.

Numeric tests take two 1-D arrays of values (the reference is the baseline's
sketch, see ``schema.NumericStatistics.sample``). Categorical tests take two
``{category: count}`` mappings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Final

import numpy as np

from scones.monitor.errors import UnknownDriftTestError

#: Below this many values on either side a test is not run (its result says why).
MIN_SAMPLES: Final = 20
#: PSI's floor for empty bins, so that log(0) never happens (the usual choice).
PSI_EPS: Final = 1e-4
PSI_BINS: Final = 10


class FeatureKind(str, Enum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class DriftResult:
    """The outcome of one test on one feature: the score, the threshold used, and the verdict."""

    test: str
    score: float
    threshold: float
    drifted: bool
    score_name: str
    note: str = ""

    @property
    def ran(self) -> bool:
        return not math.isnan(self.score)


Numeric = np.ndarray
Categorical = Mapping[str, int]


def _not_enough(test: str, threshold: float, score_name: str, n_ref: int, n_cur: int) -> DriftResult | None:
    if n_ref < MIN_SAMPLES or n_cur < MIN_SAMPLES:
        return DriftResult(test, math.nan, threshold, False, score_name,
                           f"not run: needs {MIN_SAMPLES} values on each side (reference {n_ref}, current {n_cur})")
    return None


def _clean(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


# -- Population Stability Index ---------------------------------------------------------------

def psi(reference: Numeric, current: Numeric, threshold: float) -> DriftResult:
    """Population Stability Index over the reference's deciles: how much mass moved between bins.

    Quantile bins keep the test sensitive where a confidence distribution piles up
    near 1.0. Rules of thumb: < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant.
    """
    ref, cur = _clean(reference), _clean(current)
    if (skip := _not_enough("psi", threshold, "psi", ref.size, cur.size)) is not None:
        return skip
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, PSI_BINS + 1)))
    if edges.size < 2:  # a constant reference: compare "equal to it" against "not equal"
        ref_p = np.array([1.0, 0.0])
        same = float(np.mean(cur == edges[0]))
        cur_p = np.array([same, 1.0 - same])
    else:
        inner = edges[1:-1]
        ref_p = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=edges.size - 1) / ref.size
        cur_p = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=edges.size - 1) / cur.size
    ref_p = np.clip(ref_p, PSI_EPS, None)
    cur_p = np.clip(cur_p, PSI_EPS, None)
    score = float(np.sum((cur_p - ref_p) * np.log(cur_p / ref_p)))
    return DriftResult("psi", score, threshold, score >= threshold, "psi")


PSI_THRESHOLD: Final = 0.25
PSI_KINDS: Final = frozenset({FeatureKind.NUMERIC})


# -- Kolmogorov–Smirnov -------------------------------------------------------------------------

def ks(reference: Numeric, current: Numeric, threshold: float) -> DriftResult:
    """Two-sample Kolmogorov–Smirnov test: do both samples come from one continuous distribution?

    Drift when the p-value falls below ``threshold``. Its power is bounded by the
    smaller sample, so a small baseline keeps it from flagging trivial shifts in
    a large capture.
    """
    from scipy import stats

    ref, cur = _clean(reference), _clean(current)
    if (skip := _not_enough("ks", threshold, "p_value", ref.size, cur.size)) is not None:
        return skip
    result = stats.ks_2samp(ref, cur)
    p_value = float(result.pvalue)
    return DriftResult("ks", p_value, threshold, p_value < threshold, "p_value",
                       f"statistic {float(result.statistic):.4f}")


KS_THRESHOLD: Final = 0.01
KS_KINDS: Final = frozenset({FeatureKind.NUMERIC})


# -- Chi-square -----------------------------------------------------------------------------------

def _aligned(reference: Categorical, current: Categorical) -> tuple[list[str], np.ndarray, np.ndarray]:
    cats = sorted(set(reference) | set(current))
    ref = np.array([reference.get(c, 0) for c in cats], dtype=np.float64)
    cur = np.array([current.get(c, 0) for c in cats], dtype=np.float64)
    return cats, ref, cur


def chi_square(reference: Categorical, current: Categorical, threshold: float) -> DriftResult:
    """Chi-square test of homogeneity on the 2×k table (reference counts, current counts).

    Testing homogeneity rather than goodness of fit against the reference's shares
    keeps the reference's own sampling error in the test. Drift when p < threshold.
    """
    from scipy import stats

    cats, ref, cur = _aligned(reference, current)
    if (skip := _not_enough("chi_square", threshold, "p_value", int(ref.sum()), int(cur.sum()))) is not None:
        return skip
    keep = (ref + cur) > 0
    if keep.sum() < 2:
        return DriftResult("chi_square", 1.0, threshold, False, "p_value", f"one category only ({cats[0]!r})")
    result = stats.chi2_contingency(np.vstack([ref[keep], cur[keep]]), correction=False)
    p_value = float(result.pvalue)
    return DriftResult("chi_square", p_value, threshold, p_value < threshold, "p_value",
                       f"statistic {float(result.statistic):.3f}, dof {int(result.dof)}")


CHI_SQUARE_THRESHOLD: Final = 0.01
CHI_SQUARE_KINDS: Final = frozenset({FeatureKind.CATEGORICAL})


# -- L-infinity -------------------------------------------------------------------------------------

def linf(reference: Categorical, current: Categorical, threshold: float) -> DriftResult:
    """Largest change in any category's share: Model Monitor's ``LInfinity`` categorical distance."""
    _, ref, cur = _aligned(reference, current)
    if (skip := _not_enough("linf", threshold, "distance", int(ref.sum()), int(cur.sum()))) is not None:
        return skip
    score = float(np.max(np.abs(ref / ref.sum() - cur / cur.sum())))
    return DriftResult("linf", score, threshold, score > threshold, "distance")


LINF_THRESHOLD: Final = 0.1
LINF_KINDS: Final = frozenset({FeatureKind.CATEGORICAL})


# -- the registry ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DriftTest:
    name: str
    func: Callable[..., DriftResult]
    default_threshold: float
    kinds: frozenset[FeatureKind]
    higher_is_drift: bool
    description: str

    def run(self, reference: Numeric | Categorical, current: Numeric | Categorical,
            threshold: float | None = None) -> DriftResult:
        return self.func(reference, current, self.default_threshold if threshold is None else threshold)


DRIFT_TESTS: Final[Mapping[str, DriftTest]] = MappingProxyType({
    "psi": DriftTest("psi", psi, PSI_THRESHOLD, PSI_KINDS, True, "Population Stability Index"),
    "ks": DriftTest("ks", ks, KS_THRESHOLD, KS_KINDS, False, "Kolmogorov–Smirnov p-value"),
    "chi_square": DriftTest("chi_square", chi_square, CHI_SQUARE_THRESHOLD, CHI_SQUARE_KINDS, False,
                            "Chi-square homogeneity p-value"),
    "linf": DriftTest("linf", linf, LINF_THRESHOLD, LINF_KINDS, True, "L-infinity distance of shares"),
})


def get_test(name: str) -> DriftTest:
    try:
        return DRIFT_TESTS[name]
    except KeyError as exc:
        raise UnknownDriftTestError(f"Unknown drift test {name!r}",
                                    hint=f"valid tests: {', '.join(sorted(DRIFT_TESTS))}") from exc
