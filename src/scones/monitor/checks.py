"""Comparing a capture's statistics with the baseline: drift per feature, then Model Monitor violations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scones.monitor.capture import CaptureIssues, Issue
from scones.monitor.features import CONFIDENCE, CONTENT_TYPE, PREDICTED_CLASS, prob_feature
from scones.monitor.schema import (
    CheckType,
    Constraints,
    NumericStatistics,
    Statistics,
    StringStatistics,
    Violation,
)
from scones.monitor.stats.drift import DRIFT_TESTS, DriftResult, FeatureKind, get_test


def drift_plan(classes: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Which tests run on which feature. Built here, on purpose, from the features the profile has."""
    plan: dict[str, tuple[str, ...]] = {CONFIDENCE: ("psi", "ks")}
    plan.update({prob_feature(c): ("psi",) for c in classes})
    plan[PREDICTED_CLASS] = ("chi_square", "linf")
    plan.update({"image_width": ("ks",), "image_height": ("ks",), "brightness": ("psi", "ks"),
                 "contrast": ("psi", "ks"), "saturation": ("psi", "ks"), CONTENT_TYPE: ("linf",)})
    return plan


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: FeatureKind
    results: tuple[DriftResult, ...]

    @property
    def drifted(self) -> bool:
        """Every test that ran agrees (and at least one ran).

        A feature is planned with a significance test and a magnitude (PSI, L-infinity) where
        both apply. Requiring both keeps a large capture from turning a statistically
        detectable but negligible difference into a violation, and a small one from turning
        noise that looks large into one; a real shift moves both.
        """
        ran = [r for r in self.results if r.ran]
        return bool(ran) and all(r.drifted for r in ran)

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "kind": self.kind.value, "drifted": self.drifted,
                "tests": [{"test": r.test, "score_name": r.score_name,
                           "score": None if math.isnan(r.score) else r.score, "threshold": r.threshold,
                           "drifted": r.drifted, "note": r.note} for r in self.results]}


def compare(baseline: Statistics, current: Statistics, plan: Mapping[str, Sequence[str]],
            thresholds: Mapping[str, float] | None = None) -> list[FeatureDrift]:
    """Run each planned test on each feature present on both sides, reference (baseline) first."""
    thresholds = thresholds or {}
    out: list[FeatureDrift] = []
    for name, tests in plan.items():
        ref, cur = baseline.feature(name), current.feature(name)
        if ref is None or cur is None:
            continue
        results: list[DriftResult] = []
        if isinstance(ref, NumericStatistics) and isinstance(cur, NumericStatistics):
            kind = FeatureKind.NUMERIC
            ref_values, cur_values = ref.sample(), cur.sample()
            for test_name in tests:
                test = get_test(test_name)
                if kind in test.kinds:
                    results.append(test.run(ref_values, cur_values, thresholds.get(test_name)))
        elif isinstance(ref, StringStatistics) and isinstance(cur, StringStatistics):
            kind = FeatureKind.CATEGORICAL
            for test_name in tests:
                test = get_test(test_name)
                if kind in test.kinds:
                    results.append(test.run(ref.as_counts(), cur.as_counts(), thresholds.get(test_name)))
        else:
            continue
        out.append(FeatureDrift(name, kind, tuple(results)))
    return out


def _pct(x: float) -> str:
    return f"{100.0 * x:.4g}%"


def _describe(result: DriftResult) -> str:
    test = DRIFT_TESTS[result.test]
    if test.higher_is_drift:
        return f"{test.description} {result.score:.4g} exceeds threshold {result.threshold:g}"
    return (f"{test.description} {result.score:.3g} is below {result.threshold:g}"
            + (f" ({result.note})" if result.note else ""))


def _drift_description(item: FeatureDrift) -> str:
    return "Baseline drift detected: " + " and ".join(_describe(r) for r in item.results if r.ran) + "."


def violations(constraints: Constraints, current: Statistics, drift: Sequence[FeatureDrift],
               issues: CaptureIssues, *, num_classes: int) -> list[Violation]:
    """Model Monitor's checks on the capture: completeness, data type, domains, columns, drift."""
    if not constraints.monitoring_config.evaluate_constraints or current.item_count == 0:
        return []
    config = constraints.monitoring_config
    out: list[Violation] = []
    answered = issues.counts.get(Issue.BAD_OUTPUT, 0)
    conf = current.feature(CONFIDENCE)
    parsed = conf.num_present if conf is not None else 0
    total_outputs = parsed + answered
    if total_outputs and parsed / total_outputs < config.datatype_check_threshold:
        out.append(Violation(CONFIDENCE, CheckType.DATA_TYPE,
                             f"Data type match requirement is not met. Expected data type: Fractional, "
                             f"Expected match: {_pct(config.datatype_check_threshold)}. "
                             f"Observed: Only {_pct(parsed / total_outputs)} of data is Fractional."))
    few, many = issues.counts.get(Issue.TOO_FEW_CLASSES, 0), issues.counts.get(Issue.TOO_MANY_CLASSES, 0)
    if few:
        out.append(Violation(CONFIDENCE, CheckType.MISSING_COLUMN,
                             f"There are fewer columns in the current dataset than in the baseline: "
                             f"{few} output(s) held fewer than {num_classes} probabilities."))
    if many:
        out.append(Violation(CONFIDENCE, CheckType.EXTRA_COLUMN,
                             f"There are more columns in the current dataset than in the baseline: "
                             f"{many} output(s) held more than {num_classes} probabilities."))
    for constraint in constraints.features:
        feature = current.feature(constraint.name)
        if feature is None:
            continue
        if feature.completeness < constraint.completeness - 1e-12:
            out.append(Violation(constraint.name, CheckType.COMPLETENESS,
                                 f"Data completeness requirement is not met. Expected completeness: "
                                 f"{_pct(constraint.completeness)}. Observed: Only "
                                 f"{_pct(feature.completeness)} of data is present."))
        if constraint.domains is not None and isinstance(feature, StringStatistics) and feature.num_present:
            unknown = {v: c for v, c in feature.counts if v not in constraint.domains}
            share = sum(unknown.values()) / feature.num_present
            if share > config.domain_content_threshold:
                out.append(Violation(constraint.name, CheckType.CATEGORICAL_VALUES,
                                     f"Data content check is not met. Expected: at most "
                                     f"{_pct(config.domain_content_threshold)} of values outside the baseline "
                                     f"domain {list(constraint.domains)}. Observed: {_pct(share)} "
                                     f"(e.g. {sorted(unknown)[:3]})."))
        if (constraint.is_non_negative and isinstance(feature, NumericStatistics) and feature.num_present
                and feature.min < 0):
            out.append(Violation(constraint.name, CheckType.DATA_TYPE,
                                 f"Value {feature.min:g} is negative; the baseline's values were all non-negative."))
    if config.distribution_constraints.perform_comparison:
        out.extend(Violation(item.feature, CheckType.BASELINE_DRIFT, _drift_description(item))
                   for item in drift if item.drifted)
    return out
