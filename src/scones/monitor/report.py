"""``scones monitor report``: captured traffic against the baseline, as JSON, PNG charts and one HTML page.

Output folder (published all at once):

- ``statistics.json`` — Model Monitor statistics of the captured window;
- ``constraint_violations.json`` — Model Monitor violations (empty list when none, or without a baseline);
- ``report.json`` — everything the page shows: totals, per-bucket timeline, drift table, bad-input counters;
- ``charts/*.png`` and ``report.html`` (self-contained: the charts and thumbnails are inlined).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from scones.monitor import charts
from scones.monitor.baseline import Baseline
from scones.monitor.calibration import Reliability, estimate_accuracy
from scones.monitor.capture import locate_capture
from scones.monitor.checks import FeatureDrift, compare, drift_plan, violations
from scones.monitor.features import CONFIDENCE, IMAGE_FEATURES
from scones.monitor.html import iso, render, thumbnail_png
from scones.monitor.outputs import open_output
from scones.monitor.profile import profile
from scones.monitor.scan import CaptureColumns, ScanOptions, detect_class_count, scan_capture
from scones.monitor.schema import NumericStatistics, Statistics, Violation, dumps, violations_to_dict
from scones.monitor.stats.drift import PSI_THRESHOLD
from scones.monitor.timeline import TimeBucket, buckets

LOG = logging.getLogger(__name__)

DEFAULT_THRESHOLD: Final = 0.93
LATENCY_NOTE: Final = ("not recorded — SageMaker Data Capture records carry no latency field "
                       "(see the endpoint's /metrics or CloudWatch ModelLatency)")
CHART_FEATURES: Final = ("brightness", "contrast", "saturation")
#: What a report folder holds; a later report may replace only these (``Store.check_replaceable``).
REPORT_FILES: Final = ("statistics.json", "constraint_violations.json", "report.json", "report.html", "charts/")
#: Features whose PSI against the baseline is also computed per time bucket.
TIMELINE_DRIFT: Final = ("confidence", "brightness", "contrast", "saturation")


@dataclass(frozen=True)
class ReportOptions:
    threshold: float = DEFAULT_THRESHOLD
    since: datetime | None = None
    until: datetime | None = None
    bucket_seconds: int | None = None
    max_thumbnails: int = 12
    workers: int | None = None
    show_progress: bool = True
    drift_thresholds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    capture_uri: str
    classes: tuple[str, ...]
    columns: CaptureColumns
    statistics: Statistics
    width_s: int
    timeline: list[TimeBucket]
    drift: list[FeatureDrift]
    violations: list[Violation]
    baseline: Baseline | None
    baseline_uri: str | None
    options: ReportOptions


@dataclass(frozen=True)
class ReportResult:
    location: str
    records: int
    violations: tuple[Violation, ...]
    input_problems: int
    report: dict[str, Any]

    @property
    def violated(self) -> bool:
        return bool(self.violations)


def analyse(capture_uri: str, baseline: Baseline | None, options: ReportOptions, *,
            baseline_uri: str | None = None, s3_client: Any | None = None) -> Analysis:
    """Read the capture (streaming) and compute everything the report shows; writes nothing."""
    store, files = locate_capture(capture_uri, s3_client=s3_client)
    if baseline is not None:
        classes = baseline.info.classes
    else:
        k = detect_class_count(store, files) or 2
        classes = tuple(f"class_{i}" for i in range(k))
    columns = scan_capture(store, files, ScanOptions(len(classes), options.since, options.until,
                                                     options.max_thumbnails),
                           workers=options.workers, show_progress=options.show_progress)
    statistics = profile(columns, classes)
    reliability = baseline.info.reliability if baseline is not None else None
    references = {name: sample for name in TIMELINE_DRIFT
                  if (sample := _baseline_sample(baseline, name)) is not None and sample.size}
    width, timeline = buckets(columns, options.threshold, reliability, options.bucket_seconds,
                              references=references, features=_columns_by_name(columns, TIMELINE_DRIFT))
    drift: list[FeatureDrift] = []
    found: list[Violation] = []
    if baseline is not None:
        # Model Monitor's own categorical distance reads its threshold from constraints.json,
        # so editing that file works as it does on AWS; --drift-threshold still wins.
        distribution = baseline.constraints.monitoring_config.distribution_constraints
        thresholds = {"linf": distribution.categorical_comparison_threshold, **options.drift_thresholds}
        drift = compare(baseline.statistics, statistics, drift_plan(classes), thresholds)
        found = violations(baseline.constraints, statistics, drift, columns.issues, num_classes=len(classes))
    return Analysis(capture_uri, tuple(classes), columns, statistics, width, timeline, drift, found, baseline,
                    baseline_uri, options)


def _calibration_label(reliability: Reliability | None, baseline: Baseline | None) -> str:
    if reliability is None:
        return "the raw confidences (no reliability table: assumes a calibrated model)"
    return f"the reliability table from {baseline.info.reliability_source}" if baseline else "a reliability table"


def report_dict(analysis: Analysis) -> dict[str, Any]:
    cols, opts, baseline = analysis.columns, analysis.options, analysis.baseline
    confidence = cols.confidence
    answered = confidence[~np.isnan(confidence)]
    reliability = baseline.info.reliability if baseline is not None else None
    baseline_conf = _baseline_sample(baseline, CONFIDENCE)
    return {
        "format_version": 1,
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "capture": analysis.capture_uri,
        "window": {"since": _iso_or_none(opts.since), "until": _iso_or_none(opts.until),
                   "start": iso(float(cols.time[0])) if cols.count else None,
                   "end": iso(float(cols.time[-1])) if cols.count else None},
        "threshold": opts.threshold,
        "classes": list(analysis.classes),
        "summary": {
            "records": cols.count,
            "answered": int(answered.size),
            "share_below_threshold": _num(float(np.mean(answered < opts.threshold)) if answered.size else math.nan),
            "confidence_mean": _num(float(answered.mean()) if answered.size else math.nan),
            "baseline_confidence_mean": _num(float(baseline_conf.mean()) if baseline_conf is not None
                                             and baseline_conf.size else math.nan),
            "estimated_accuracy": _num(estimate_accuracy(confidence, reliability)),
            "baseline_accuracy": None if baseline is None else baseline.info.accuracy,
            "calibration": _calibration_label(reliability, baseline),
            "latency_ms": None,
            "latency_note": LATENCY_NOTE,
        },
        "input_problems": {"total": cols.issues.total, "files": cols.files, "out_of_window": cols.out_of_window,
                           "files_after_window": cols.files_skipped,
                           "counts": cols.issues.to_dict()},
        "content_types": dict(cols.content_types.most_common()),
        "timeline": {"bucket_seconds": analysis.width_s,
                     "buckets": [b.to_dict(analysis.classes) for b in analysis.timeline]},
        "drift": [d.to_dict() for d in analysis.drift],
        "violations": [v.to_dict() for v in analysis.violations],
        "baseline": None if baseline is None else {
            "uri": analysis.baseline_uri, "item_count": baseline.info.item_count, "source": baseline.info.source,
            "created": baseline.info.created, "model_sha256": baseline.info.model_sha256},
    }


def _columns_by_name(columns: CaptureColumns, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == CONFIDENCE:
            out[name] = columns.confidence
        elif name in IMAGE_FEATURES:
            out[name] = columns.images[:, IMAGE_FEATURES.index(name)]
    return out


def _baseline_sample(baseline: Baseline | None, name: str) -> np.ndarray | None:
    if baseline is None:
        return None
    feature = baseline.statistics.feature(name)
    return feature.sample() if isinstance(feature, NumericStatistics) else None


def draw_charts(analysis: Analysis) -> dict[str, bytes]:
    cols, baseline, classes = analysis.columns, analysis.baseline, analysis.classes
    baseline_share = None
    if baseline is not None:
        predicted = baseline.statistics.feature("predicted_class")
        if predicted is not None and not isinstance(predicted, NumericStatistics) and predicted.num_present:
            counts = predicted.as_counts()
            baseline_share = [counts.get(c, 0) / predicted.num_present for c in classes]
    return {
        "confidence_over_time.png": charts.confidence_over_time(analysis.timeline, analysis.options.threshold,
                                                                analysis.width_s),
        "confidence_histogram.png": charts.confidence_histogram(cols.confidence, _baseline_sample(baseline, CONFIDENCE),
                                                                analysis.options.threshold),
        "class_mix.png": charts.class_mix(analysis.timeline, classes, analysis.width_s, baseline_share),
        "estimated_accuracy.png": charts.estimated_accuracy(analysis.timeline, analysis.width_s,
                                                            baseline.info.accuracy if baseline else None),
        "drift_over_time.png": charts.drift_over_time(analysis.timeline, analysis.width_s,
                                                      analysis.options.drift_thresholds.get("psi", PSI_THRESHOLD)),
        "image_statistics.png": charts.feature_histograms(
            CHART_FEATURES, [cols.images[:, IMAGE_FEATURES.index(n)] for n in CHART_FEATURES],
            [_baseline_sample(baseline, n) for n in CHART_FEATURES]),
    }


def write_report(analysis: Analysis, out_uri: str, *, s3_client: Any | None = None) -> ReportResult:
    report = report_dict(analysis)
    pngs = draw_charts(analysis)
    thumbs = [{"png": thumbnail_png(t.data), "confidence": t.confidence, "time": iso(t.time),
               "predicted": analysis.classes[t.predicted], "where": t.where}
              for t in analysis.columns.thumbnails]
    report["lowest_confidence"] = [{k: v for k, v in t.items() if k != "png"} for t in thumbs]
    page = render(report, pngs, thumbs)
    parent, name = open_output(out_uri, s3_client=s3_client)
    with parent.publish(name, replaces=REPORT_FILES) as staging:
        staging.put_text("statistics.json", dumps(analysis.statistics.to_dict()))
        staging.put_text("constraint_violations.json", dumps(violations_to_dict(analysis.violations)))
        staging.put_text("report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
        for chart, png in pngs.items():
            staging.put_bytes(f"charts/{chart}", png)
        staging.put_text("report.html", page)
    return ReportResult(parent.uri_for(name), analysis.columns.count, tuple(analysis.violations),
                        analysis.columns.issues.total, report)


def build_report(capture_uri: str, out_uri: str, baseline: Baseline | None, options: ReportOptions, *,
                 baseline_uri: str | None = None, s3_client: Any | None = None) -> ReportResult:
    analysis = analyse(capture_uri, baseline, options, baseline_uri=baseline_uri, s3_client=s3_client)
    return write_report(analysis, out_uri, s3_client=s3_client)


def _iso_or_none(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value
