"""SageMaker Model Monitor files: ``statistics.json``, ``constraints.json``, ``constraint_violations.json``.

The one place these shapes are built and parsed (docs/aws-facts.md, Model Monitor). Distributions
are materialised in 10 equal-width buckets between ``min`` and ``max``, as the console
reads them, and the KLL sketch keeps the items themselves: when a feature has at most
``k`` values they are all kept at level 0 (exact); otherwise they are compacted into one
level ``L`` where each kept item stands for ``2**L`` values, as a KLL compactor does.
The drift tests read that sketch back as the reference sample.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

import numpy as np

from scones.monitor.errors import BaselineError

SCHEMA_VERSION: Final = 0
NUM_BUCKETS: Final = 10
KLL_K: Final = 2048
KLL_C: Final = 0.64
#: String features keep their observed values as a domain when they have at most this many.
MAX_DOMAIN_SIZE: Final = 64


class InferredType(str, Enum):
    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"
    STRING = "String"
    UNKNOWN = "Unknown"


class CheckType(str, Enum):
    DATA_TYPE = "data_type_check"
    COMPLETENESS = "completeness_check"
    BASELINE_DRIFT = "baseline_drift_check"
    MISSING_COLUMN = "missing_column_check"
    EXTRA_COLUMN = "extra_column_check"
    CATEGORICAL_VALUES = "categorical_values_check"


@dataclass(frozen=True)
class Bucket:
    lower_bound: float
    upper_bound: float
    count: float


@dataclass(frozen=True)
class NumericStatistics:
    """A numeric feature's statistics, including a KLL-style sketch of its values."""

    name: str
    inferred_type: InferredType
    num_present: int
    num_missing: int
    mean: float
    sum: float
    std_dev: float
    min: float
    max: float
    buckets: tuple[Bucket, ...]
    sketch: tuple[tuple[float, ...], ...] = ()
    sketch_k: int = KLL_K
    sketch_c: float = KLL_C

    @property
    def completeness(self) -> float:
        total = self.num_present + self.num_missing
        return self.num_present / total if total else 0.0

    def sample(self) -> np.ndarray:
        """The sketch's items, each repeated by its level weight (``2**level``)."""
        parts = [np.repeat(np.asarray(level, dtype=np.float64), 2 ** i) for i, level in enumerate(self.sketch)]
        return np.concatenate(parts) if parts else np.empty(0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inferred_type": self.inferred_type.value,
            "numerical_statistics": {
                "common": {"num_present": self.num_present, "num_missing": self.num_missing},
                "mean": _num(self.mean), "sum": _num(self.sum), "std_dev": _num(self.std_dev),
                "min": _num(self.min), "max": _num(self.max),
                "distribution": {"kll": {
                    "buckets": [{"lower_bound": b.lower_bound, "upper_bound": b.upper_bound, "count": b.count}
                                for b in self.buckets],
                    "sketch": {"parameters": {"c": self.sketch_c, "k": float(self.sketch_k)},
                               "data": [list(level) for level in self.sketch]},
                }},
            },
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NumericStatistics:
        stats = raw["numerical_statistics"]
        kll = stats.get("distribution", {}).get("kll", {})
        sketch = kll.get("sketch", {})
        params = sketch.get("parameters", {})
        return cls(
            name=str(raw["name"]), inferred_type=InferredType(raw["inferred_type"]),
            num_present=int(stats["common"]["num_present"]), num_missing=int(stats["common"]["num_missing"]),
            mean=_float(stats.get("mean")), sum=_float(stats.get("sum")), std_dev=_float(stats.get("std_dev")),
            min=_float(stats.get("min")), max=_float(stats.get("max")),
            buckets=tuple(Bucket(float(b["lower_bound"]), float(b["upper_bound"]), float(b["count"]))
                          for b in kll.get("buckets", [])),
            sketch=tuple(tuple(float(v) for v in level) for level in sketch.get("data", [])),
            sketch_k=int(params.get("k", KLL_K)), sketch_c=float(params.get("c", KLL_C)),
        )


@dataclass(frozen=True)
class StringStatistics:
    name: str
    num_present: int
    num_missing: int
    counts: tuple[tuple[str, int], ...]

    inferred_type: InferredType = InferredType.STRING

    @property
    def completeness(self) -> float:
        total = self.num_present + self.num_missing
        return self.num_present / total if total else 0.0

    @property
    def distinct_count(self) -> int:
        return len(self.counts)

    def as_counts(self) -> dict[str, int]:
        return dict(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inferred_type": InferredType.STRING.value,
            "string_statistics": {
                "common": {"num_present": self.num_present, "num_missing": self.num_missing},
                "distinct_count": float(self.distinct_count),
                "distribution": {"categorical": {"buckets": [{"value": v, "count": c} for v, c in self.counts]}},
            },
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StringStatistics:
        stats = raw["string_statistics"]
        buckets = stats.get("distribution", {}).get("categorical", {}).get("buckets", [])
        return cls(name=str(raw["name"]), num_present=int(stats["common"]["num_present"]),
                   num_missing=int(stats["common"]["num_missing"]),
                   counts=tuple((str(b["value"]), int(b["count"])) for b in buckets))


FeatureStatistics = NumericStatistics | StringStatistics


@dataclass(frozen=True)
class Statistics:
    item_count: int
    features: tuple[FeatureStatistics, ...]

    def feature(self, name: str) -> FeatureStatistics | None:
        return next((f for f in self.features if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, "dataset": {"item_count": self.item_count},
                "features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, raw: Any) -> Statistics:
        try:
            features: list[FeatureStatistics] = []
            if not isinstance(raw["features"], list) or not all(isinstance(f, dict) for f in raw["features"]):
                raise TypeError("'features' must be a list of objects")
            for f in raw["features"]:
                if "numerical_statistics" in f:
                    features.append(NumericStatistics.from_dict(f))
                elif "string_statistics" in f:
                    features.append(StringStatistics.from_dict(f))
            return cls(item_count=int(raw["dataset"]["item_count"]), features=tuple(features))
        except (KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"statistics.json is not in Model Monitor's schema: {exc!r}",
                                hint="rebuild it with 'scones monitor baseline'") from exc


# -- building statistics from values ------------------------------------------------------


def numeric_statistics(name: str, values: Sequence[float] | np.ndarray, *, integral: bool = False,
                       k: int = KLL_K) -> NumericStatistics:
    """Statistics of one numeric feature; NaN marks a missing value."""
    arr = np.asarray(values, dtype=np.float64)
    present = arr[~np.isnan(arr)]
    kind = InferredType.INTEGRAL if integral else InferredType.FRACTIONAL
    if present.size == 0:
        return NumericStatistics(name, kind, 0, int(arr.size), math.nan, 0.0, math.nan, math.nan, math.nan, ())
    lo, hi = float(present.min()), float(present.max())
    return NumericStatistics(
        name=name, inferred_type=kind, num_present=int(present.size), num_missing=int(arr.size - present.size),
        mean=float(present.mean()), sum=float(present.sum()), std_dev=float(present.std()), min=lo, max=hi,
        buckets=equal_width_buckets(present, lo, hi), sketch=kll_compact(present, k),
    )


def equal_width_buckets(values: np.ndarray, lo: float, hi: float, n: int = NUM_BUCKETS) -> tuple[Bucket, ...]:
    if hi <= lo:
        return (Bucket(lo, hi, float(values.size)),) + tuple(Bucket(hi, hi, 0.0) for _ in range(n - 1))
    edges = np.linspace(lo, hi, n + 1)
    counts, _ = np.histogram(values, bins=edges)
    return tuple(Bucket(float(edges[i]), float(edges[i + 1]), float(counts[i])) for i in range(n))


def kll_compact(values: np.ndarray, k: int = KLL_K) -> tuple[tuple[float, ...], ...]:
    """Keep every item when there are at most ``k``; else halve (sorted, alternate items) until they fit."""
    items = np.sort(np.asarray(values, dtype=np.float64))
    level = 0
    while items.size > k:
        items = items[level % 2::2]  # alternate the offset per level to stay unbiased
        level += 1
    return tuple(() for _ in range(level)) + (tuple(float(v) for v in items),)


def string_statistics(name: str, counts: Mapping[str, int], num_missing: int = 0) -> StringStatistics:
    ordered = tuple(sorted(((str(v), int(c)) for v, c in counts.items() if c > 0), key=lambda vc: (-vc[1], vc[0])))
    return StringStatistics(name=name, num_present=sum(c for _, c in ordered), num_missing=int(num_missing),
                            counts=ordered)


# -- constraints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributionConstraints:
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"

    def to_dict(self) -> dict[str, Any]:
        return {"perform_comparison": "Enabled" if self.perform_comparison else "Disabled",
                "comparison_threshold": self.comparison_threshold, "comparison_method": self.comparison_method,
                "categorical_comparison_threshold": self.categorical_comparison_threshold,
                "categorical_drift_method": self.categorical_drift_method}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DistributionConstraints:
        return cls(perform_comparison=raw.get("perform_comparison", "Enabled") == "Enabled",
                   comparison_threshold=float(raw.get("comparison_threshold", 0.1)),
                   # the archived schema spells it "comparion_method"; accept both
                   comparison_method=str(raw.get("comparison_method", raw.get("comparion_method", "Robust"))),
                   categorical_comparison_threshold=float(raw.get("categorical_comparison_threshold", 0.1)),
                   categorical_drift_method=str(raw.get("categorical_drift_method", "LInfinity")))


@dataclass(frozen=True)
class MonitoringConfig:
    evaluate_constraints: bool = True
    emit_metrics: bool = True
    #: Share of values that must have the baseline's data type (1.0 = all, as in AWS's example;
    #: docs/aws-facts.md, Model Monitor).
    datatype_check_threshold: float = 1.0
    #: Largest tolerated share of string values outside the baseline's domain.
    domain_content_threshold: float = 0.1
    distribution_constraints: DistributionConstraints = field(default_factory=DistributionConstraints)

    def to_dict(self) -> dict[str, Any]:
        return {"evaluate_constraints": "Enabled" if self.evaluate_constraints else "Disabled",
                "emit_metrics": "Enabled" if self.emit_metrics else "Disabled",
                "datatype_check_threshold": self.datatype_check_threshold,
                "domain_content_threshold": self.domain_content_threshold,
                "distribution_constraints": self.distribution_constraints.to_dict()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MonitoringConfig:
        return cls(evaluate_constraints=raw.get("evaluate_constraints", "Enabled") == "Enabled",
                   emit_metrics=raw.get("emit_metrics", "Enabled") == "Enabled",
                   datatype_check_threshold=float(raw.get("datatype_check_threshold", 1.0)),
                   domain_content_threshold=float(raw.get("domain_content_threshold", 0.1)),
                   distribution_constraints=DistributionConstraints.from_dict(
                       raw.get("distribution_constraints", {})))


@dataclass(frozen=True)
class FeatureConstraint:
    name: str
    inferred_type: InferredType
    completeness: float
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "inferred_type": self.inferred_type.value,
                               "completeness": self.completeness}
        if self.is_non_negative is not None:
            out["num_constraints"] = {"is_non_negative": self.is_non_negative}
        if self.domains is not None:
            out["string_constraints"] = {"domains": list(self.domains)}
        out["monitoringConfigOverrides"] = {}
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FeatureConstraint:
        num = raw.get("num_constraints")
        strings = raw.get("string_constraints")
        return cls(name=str(raw["name"]), inferred_type=InferredType(raw.get("inferred_type", "Unknown")),
                   completeness=float(raw.get("completeness", 1.0)),
                   is_non_negative=None if num is None else bool(num.get("is_non_negative")),
                   domains=None if strings is None else tuple(str(d) for d in strings.get("domains", [])))


@dataclass(frozen=True)
class Constraints:
    features: tuple[FeatureConstraint, ...]
    monitoring_config: MonitoringConfig = field(default_factory=MonitoringConfig)

    def feature(self, name: str) -> FeatureConstraint | None:
        return next((f for f in self.features if f.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SCHEMA_VERSION, "features": [f.to_dict() for f in self.features],
                "monitoring_config": self.monitoring_config.to_dict()}

    @classmethod
    def from_dict(cls, raw: Any) -> Constraints:
        try:
            return cls(features=tuple(FeatureConstraint.from_dict(f) for f in raw["features"]),
                       monitoring_config=MonitoringConfig.from_dict(raw.get("monitoring_config", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BaselineError(f"constraints.json is not in Model Monitor's schema: {exc!r}",
                                hint="rebuild it with 'scones monitor baseline'") from exc


def suggest_constraints(statistics: Statistics, config: MonitoringConfig | None = None) -> Constraints:
    """The constraints Model Monitor's suggestion step derives: completeness, sign, string domains."""
    features: list[FeatureConstraint] = []
    for f in statistics.features:
        if isinstance(f, NumericStatistics):
            features.append(FeatureConstraint(f.name, f.inferred_type, f.completeness,
                                              is_non_negative=bool(f.num_present and f.min >= 0)))
        else:
            domain = tuple(v for v, _ in f.counts) if f.distinct_count <= MAX_DOMAIN_SIZE else None
            features.append(FeatureConstraint(f.name, InferredType.STRING, f.completeness, domains=domain))
    return Constraints(tuple(features), config or MonitoringConfig())


# -- violations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    feature_name: str
    constraint_check_type: CheckType
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"feature_name": self.feature_name, "constraint_check_type": self.constraint_check_type.value,
                "description": self.description}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Violation:
        return cls(str(raw["feature_name"]), CheckType(raw["constraint_check_type"]), str(raw["description"]))


def violations_to_dict(violations: Iterable[Violation]) -> dict[str, Any]:
    return {"violations": [v.to_dict() for v in violations]}


def violations_from_dict(raw: Any) -> list[Violation]:
    return [Violation.from_dict(v) for v in raw.get("violations", [])]


def dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


def _num(value: float) -> float | str:
    """Model Monitor writes ``"NaN"`` where a number is undefined; strict JSON has no NaN."""
    return "NaN" if value is None or math.isnan(value) else value


def _float(value: Any) -> float:
    if value is None or value == "NaN":
        return math.nan
    return float(value)
