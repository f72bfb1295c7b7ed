from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scones.monitor.errors import BaselineError
from scones.monitor.schema import (
    CheckType,
    Constraints,
    InferredType,
    NumericStatistics,
    Statistics,
    Violation,
    dumps,
    kll_compact,
    numeric_statistics,
    string_statistics,
    suggest_constraints,
    violations_from_dict,
    violations_to_dict,
)


def _stats() -> Statistics:
    rng = np.random.default_rng(0)
    values = rng.uniform(0.5, 1.0, 500)
    values[:5] = np.nan
    return Statistics(500, (numeric_statistics("confidence", values),
                            numeric_statistics("image_width", np.full(500, 32.0), integral=True),
                            string_statistics("predicted_class", {"bicycle": 300, "motorcycle": 195}, 5)))


def test_statistics_round_trip_through_json() -> None:
    stats = _stats()
    raw = json.loads(dumps(stats.to_dict()))
    assert raw["version"] == 0 and raw["dataset"] == {"item_count": 500}
    conf = raw["features"][0]
    assert conf["inferred_type"] == "Fractional"
    assert conf["numerical_statistics"]["common"] == {"num_present": 495, "num_missing": 5}
    kll = conf["numerical_statistics"]["distribution"]["kll"]
    assert len(kll["buckets"]) == 10 and sum(b["count"] for b in kll["buckets"]) == 495
    assert set(kll["sketch"]["parameters"]) == {"c", "k"}
    assert raw["features"][2]["string_statistics"]["distribution"]["categorical"]["buckets"][0] == {
        "value": "bicycle", "count": 300}
    assert Statistics.from_dict(raw) == stats


def test_empty_feature_writes_nan_as_string_and_reads_back() -> None:
    stats = Statistics(3, (numeric_statistics("brightness", [math.nan] * 3),))
    text = dumps(stats.to_dict())  # strict JSON: no bare NaN
    assert '"NaN"' in text
    back = Statistics.from_dict(json.loads(text)).features[0]
    assert isinstance(back, NumericStatistics) and back.num_missing == 3 and math.isnan(back.mean)


def test_kll_keeps_small_sets_exactly_and_compacts_large_ones() -> None:
    small = np.arange(100, dtype=float)
    assert kll_compact(small, k=128) == (tuple(small),)
    large = np.random.default_rng(1).normal(size=10_000)
    levels = kll_compact(large, k=2048)
    assert all(level == () for level in levels[:-1]) and 1024 <= len(levels[-1]) <= 2048
    stats = numeric_statistics("x", large)
    sample = stats.sample()  # each item weighted by 2**level
    assert abs(sample.size - large.size) <= 2 ** (len(levels) - 1)
    assert abs(np.median(sample) - np.median(large)) < 0.05


def test_constraints_round_trip_and_suggestion() -> None:
    constraints = suggest_constraints(_stats())
    raw = json.loads(dumps(constraints.to_dict()))
    assert raw["monitoring_config"]["distribution_constraints"]["comparison_threshold"] == 0.1
    first = raw["features"][0]
    assert first["completeness"] == pytest.approx(0.99) and first["num_constraints"] == {"is_non_negative": True}
    assert raw["features"][2]["string_constraints"]["domains"] == ["bicycle", "motorcycle"]
    assert Constraints.from_dict(raw) == constraints


def test_reads_archived_misspelling_and_aws_style_constraints() -> None:
    raw = {"version": 0, "features": [{"name": "c", "inferred_type": "Integral", "completeness": 1.0}],
           "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
                                 "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
                                 "distribution_constraints": {"perform_comparison": "Enabled",
                                                              "comparison_threshold": 0.1,
                                                              "comparion_method": "Simple"}}}
    parsed = Constraints.from_dict(raw)
    assert parsed.features[0].inferred_type is InferredType.INTEGRAL
    assert parsed.monitoring_config.distribution_constraints.comparison_method == "Simple"
    assert parsed.monitoring_config.domain_content_threshold == 1.0
    assert parsed.monitoring_config.evaluate_constraints and parsed.to_dict()["features"][0]["name"] == "c"


def test_violations_round_trip() -> None:
    found = [Violation("confidence", CheckType.BASELINE_DRIFT, "Baseline drift distance: 0.3 exceeds threshold: 0.2")]
    raw = json.loads(dumps(violations_to_dict(found)))
    assert raw == {"violations": [{"feature_name": "confidence", "constraint_check_type": "baseline_drift_check",
                                   "description": "Baseline drift distance: 0.3 exceeds threshold: 0.2"}]}
    assert violations_from_dict(raw) == found


@pytest.mark.parametrize("raw", [{}, {"dataset": {"item_count": 1}, "features": "nope"},
                                 {"dataset": {}, "features": []}], ids=["empty", "wrong-types", "no-count"])
def test_malformed_statistics_say_how_to_rebuild(raw: object) -> None:
    with pytest.raises(BaselineError, match="scones monitor baseline"):
        Statistics.from_dict(raw)


def test_malformed_constraints_say_how_to_rebuild() -> None:
    with pytest.raises(BaselineError, match="scones monitor baseline"):
        Constraints.from_dict({"features": [{"name": "x", "inferred_type": "Bogus"}]})
