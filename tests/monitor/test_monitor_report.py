from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from monitor_helpers import CLASSES, START, bad_capture, capture_from_images, make_pngs, stage_dataset, with_training

from scones.cli import main
from scones.model_artifact import write_model_tarball
from scones.monitor.baseline import Baseline, build_baseline
from scones.monitor.capture import Issue
from scones.monitor.report import ReportOptions, build_report
from scones.monitor.simulate import darken
from scones.testing import make_tiny_model

AWS_CAPTURE = "aws-recorded/data_capture"


@pytest.fixture(scope="module")
def baseline_and_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Baseline, dict[str, Path]]:
    """One baseline over 300 validation images, shared by this module's tests (it is only read)."""
    root = tmp_path_factory.mktemp("baseline")
    data = stage_dataset(root / "data", make_pngs(600, 1), make_pngs(10, 101))
    model = with_training(make_tiny_model(CLASSES),
                          training={"validation_files": [f"train_{i:04d}.png" for i in range(0, 600, 2)]})
    path = write_model_tarball(root / "model" / "model.tar.gz", model.onnx_bytes, model.spec)
    result = build_baseline(str(path), str(data), str(root / "baseline"), show_progress=False)
    return result.baseline, {"data": data, "model": path, "root": root}


def _report(capture: Path, out: Path, baseline: Baseline | None, **options: Any) -> dict[str, Any]:
    options.setdefault("show_progress", False)
    options.setdefault("workers", 1)
    build_report(str(capture), str(out), baseline, ReportOptions(**options))
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    return report


class _TagBalance(HTMLParser):
    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _unbalanced_tags(page: str) -> list[str]:
    checker = _TagBalance()
    checker.feed(page)
    return checker.errors + checker.stack


def _drifted(report: dict[str, Any]) -> set[str]:
    return {d["feature"] for d in report["drift"] if d["drifted"]}


def test_darkened_images_are_flagged_and_unchanged_ones_are_not(
        tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    model = make_tiny_model(CLASSES)
    fresh = make_pngs(500, seed=77)  # new images from the same distribution as the validation set
    capture_from_images(tmp_path / "same", fresh, model)
    capture_from_images(tmp_path / "dark", [darken(png, 0.45) for png in fresh], model)

    same = _report(tmp_path / "same", tmp_path / "out-same", baseline)
    assert same["summary"]["records"] == 500 and same["input_problems"]["total"] == 0
    assert _drifted(same) == set() and same["violations"] == []
    assert json.loads((tmp_path / "out-same" / "constraint_violations.json").read_text()) == {"violations": []}

    dark = _report(tmp_path / "dark", tmp_path / "out-dark", baseline)
    assert {"brightness", "confidence"} <= _drifted(dark)
    assert "saturation" not in _drifted(dark)  # scaling all channels keeps HSV saturation
    violations = json.loads((tmp_path / "out-dark" / "constraint_violations.json").read_text())["violations"]
    flagged = {(v["feature_name"], v["constraint_check_type"]) for v in violations}
    assert ("brightness", "baseline_drift_check") in flagged and ("confidence", "baseline_drift_check") in flagged
    brightness = next(d for d in dark["drift"] if d["feature"] == "brightness")
    assert {t["test"]: t["drifted"] for t in brightness["tests"]} == {"psi": True, "ks": True}
    # the darker traffic is less confident, and the estimate of accuracy follows the calibration
    assert dark["summary"]["confidence_mean"] != pytest.approx(same["summary"]["confidence_mean"], abs=1e-3)
    assert 0.0 <= dark["summary"]["estimated_accuracy"] <= 1.0


def test_timeline_buckets_and_window(tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    capture_from_images(tmp_path / "cap", make_pngs(120, seed=5), make_tiny_model(CLASSES), hours=2.0)
    report = _report(tmp_path / "cap", tmp_path / "out", baseline, bucket_seconds=1800, threshold=0.6)
    buckets = report["timeline"]["buckets"]
    assert report["timeline"]["bucket_seconds"] == 1800 and len(buckets) == 4
    assert sum(b["count"] for b in buckets) == 120 and buckets[0]["start"] == "2025-10-04T08:00:00Z"
    for b in buckets:
        assert set(b["class_share"]) == set(CLASSES) and sum(b["class_share"].values()) == pytest.approx(1.0)
        assert b["confidence"]["p10"] <= b["confidence"]["p50"] <= b["confidence"]["p90"]
    windowed = _report(tmp_path / "cap", tmp_path / "out2", baseline, since=START + timedelta(hours=1),
                       until=START + timedelta(hours=1, minutes=30))
    problems = windowed["input_problems"]
    assert windowed["summary"]["records"] == 30 and problems["out_of_window"] == 60
    assert problems["files_after_window"] == 1 and problems["files"] == 3  # the 09:30 file is not even read


def test_per_bucket_drift_shows_when_the_images_got_darker(
        tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    images = make_pngs(300, seed=21)
    images = images[:150] + [darken(png, 0.45) for png in images[150:]]  # the second hour is darker
    capture_from_images(tmp_path / "cap", images, make_tiny_model(CLASSES), hours=2.0)
    report = _report(tmp_path / "cap", tmp_path / "out", baseline, bucket_seconds=3600)
    first, second = report["timeline"]["buckets"]
    assert first["psi"]["brightness"] < 0.25 < second["psi"]["brightness"]
    assert first["psi"]["saturation"] < 0.25 and second["psi"]["saturation"] < 0.25
    assert "brightness" in _drifted(report)


def test_bad_input_is_counted_in_json_and_html_and_escaped(
        tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    expected = bad_capture(tmp_path / "cap")
    hostile = tmp_path / "cap" / "<i>evil&.jsonl"
    hostile.write_text("<script>alert(1)</script>\n")
    report = _report(tmp_path / "cap", tmp_path / "out", baseline)
    counts = {k: v["count"] for k, v in report["input_problems"]["counts"].items()}
    assert counts[Issue.NOT_JSON.value] == expected[Issue.NOT_JSON] + 1
    for issue, n in expected.items():
        if issue is not Issue.NOT_JSON:
            assert counts[issue.value] == n, issue
    assert report["input_problems"]["files"] == 3
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<i>evil" not in page and "&lt;i&gt;evil&amp;.jsonl:1" in page
    assert _unbalanced_tags(page) == []
    assert "inputs that do not decode as an image" in page and "outputs that are not class probabilities" in page
    checks = {v["constraint_check_type"] for v in report["violations"]}
    assert {"data_type_check", "completeness_check", "missing_column_check", "extra_column_check"} <= checks


def test_empty_capture_still_renders(tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    (tmp_path / "cap" / "ep").mkdir(parents=True)
    (tmp_path / "cap" / "ep" / "empty.jsonl").write_bytes(b"")
    report = _report(tmp_path / "cap", tmp_path / "out", baseline)
    assert report["summary"]["records"] == 0 and report["violations"] == [] and report["timeline"]["buckets"] == []
    assert "no captured requests" not in report  # the page says it, the JSON just has zeros
    assert (tmp_path / "out" / "report.html").stat().st_size > 1000


def test_html_is_self_contained(tmp_path: Path, baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    capture_from_images(tmp_path / "cap", make_pngs(60, seed=8), make_tiny_model(CLASSES))
    _report(tmp_path / "cap", tmp_path / "out", baseline, max_thumbnails=5)
    page = (tmp_path / "out" / "report.html").read_text()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 6 + 5  # six charts, five thumbnails
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(href|src)=\"(https?:|//|file:)", page) and "<script" not in page
    assert _unbalanced_tags(page) == []
    charts = sorted(p.name for p in (tmp_path / "out" / "charts").iterdir())
    assert charts == ["class_mix.png", "confidence_histogram.png", "confidence_over_time.png", "drift_over_time.png",
                      "estimated_accuracy.png", "image_statistics.png"]
    assert all((tmp_path / "out" / "charts" / c).read_bytes().startswith(b"\x89PNG") for c in charts)


def test_report_from_the_real_aws_capture(tmp_path: Path, shared_data: Path,
                                          baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    baseline, _ = baseline_and_model
    report = _report(shared_data / AWS_CAPTURE, tmp_path / "out", baseline)
    assert report["summary"]["records"] == 1 and report["input_problems"]["total"] == 0
    assert report["summary"]["confidence_mean"] == pytest.approx(0.8227921724319458)
    assert report["lowest_confidence"][0]["predicted"] == "bicycle"
    assert all(t["note"].startswith("not run") for d in report["drift"] for t in d["tests"] if t["score"] is None)
    no_baseline = _report(shared_data / AWS_CAPTURE, tmp_path / "out2", None)
    assert no_baseline["classes"] == ["class_0", "class_1"] and no_baseline["drift"] == []


def _cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0)


def test_cli_end_to_end_with_fail_on_violation(tmp_path: Path, monitor_setup: Callable[..., dict[str, Path]],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    paths = monitor_setup(n_train=300, n_test=10)
    base = str(tmp_path / "baseline")
    assert _cli(["monitor", "baseline", "--model", str(paths["model"]), "--data", str(paths["data"]),
                 "--out", base]) == 0
    assert "Baseline of 150 images" in capsys.readouterr().out
    model = make_tiny_model(CLASSES)
    fresh = make_pngs(200, seed=31)
    capture_from_images(tmp_path / "dark", [darken(p, 0.4) for p in fresh], model)
    args = ["monitor", "report", "--capture", str(tmp_path / "dark"), "--baseline", base, "--out"]
    assert _cli([*args, str(tmp_path / "r1")]) == 0
    assert _cli([*args, str(tmp_path / "r2"), "--fail-on-violation"]) == 3
    out = capsys.readouterr().out
    assert "baseline_drift_check brightness" in out and "report.html" in out
    assert _cli([*args, str(tmp_path / "r3"), "--since", "yesterday"]) == 2
    assert "--since 'yesterday' is not an ISO-8601 time or a duration" in capsys.readouterr().err
    assert _cli([*args, str(tmp_path / "r3"), "--since", "2h"]) == 0  # nothing from 2025 is that recent
    captured = capsys.readouterr()
    assert "0 captured images" in captured.out and "Warning: no captured records were found" in captured.err
    assert _cli([*args, str(tmp_path / "r4"), "--drift-threshold", "bogus=1"]) == 2
    assert "valid tests: chi_square, ks, linf, psi" in capsys.readouterr().err
    assert _cli(["monitor", "report", "--capture", str(tmp_path / "none"), "--out", str(tmp_path / "r5")]) == 1
    assert "No capture at" in capsys.readouterr().err
    assert _cli(["monitor", "download", "--from", str(tmp_path / "dark"), "--to", str(tmp_path / "copy")]) == 0
    copied = sorted(p.relative_to(tmp_path / "copy") for p in (tmp_path / "copy").rglob("*.jsonl"))
    assert copied == sorted(p.relative_to(tmp_path / "dark") for p in (tmp_path / "dark").rglob("*.jsonl"))


def test_cli_defaults_use_the_local_store(tmp_path: Path, scones_home: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bucket = scones_home / "store" / "scones"
    stage_dataset(bucket / "dataset", make_pngs(40, 2), make_pngs(30, 3))
    model = with_training(make_tiny_model(CLASSES), training={})
    write_model_tarball(bucket / "model" / "model.tar.gz", model.onnx_bytes, model.spec)
    assert _cli(["monitor", "baseline"]) == 0
    assert "test split" in capsys.readouterr().err
    assert (bucket / "monitor" / "baseline" / "constraints.json").is_file()
    capture_from_images(bucket / "data_capture", make_pngs(30, 4), make_tiny_model(CLASSES))
    assert _cli(["monitor", "report", "--out", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["summary"]["records"] == 30 and report["baseline"]["item_count"] == 30
    assert report["baseline"]["uri"].endswith("/store/scones/monitor/baseline")


def test_constraints_file_thresholds_are_honoured(tmp_path: Path,
                                                  baseline_and_model: tuple[Baseline, dict[str, Path]]) -> None:
    from dataclasses import replace

    baseline, _ = baseline_and_model
    capture_from_images(tmp_path / "cap", make_pngs(200, seed=12), make_tiny_model(CLASSES))
    config = baseline.constraints.monitoring_config
    strict = replace(baseline, constraints=replace(baseline.constraints, monitoring_config=replace(
        config, distribution_constraints=replace(config.distribution_constraints,
                                                 categorical_comparison_threshold=0.0))))
    # chi_square=1.0 makes the significance half of the class-mix check always agree
    report = _report(tmp_path / "cap", tmp_path / "out", strict, drift_thresholds={"chi_square": 1.0})
    linf = next(t for d in report["drift"] if d["feature"] == "predicted_class" for t in d["tests"]
                if t["test"] == "linf")
    assert linf["threshold"] == 0.0 and linf["score"] > 0 and linf["drifted"]
    assert any(v["feature_name"] == "predicted_class" for v in report["violations"])
    off = replace(strict, constraints=replace(strict.constraints, monitoring_config=replace(
        strict.constraints.monitoring_config, evaluate_constraints=False)))
    assert _report(tmp_path / "cap", tmp_path / "out2", off, drift_thresholds={"chi_square": 1.0})["violations"] == []
    relaxed = _report(tmp_path / "cap", tmp_path / "out3", baseline, drift_thresholds={"chi_square": 1.0})
    assert not any(v["feature_name"] == "predicted_class" for v in relaxed["violations"])  # linf alone disagrees


def test_real_images_unchanged_pass_and_darkened_fail(tmp_path: Path, shared_data: Path) -> None:
    """The demo's situation: a baseline on held-out train images, traffic resampled from test/."""
    import random

    data = shared_data / "cifar100-bicycle-motorcycle"
    train = [line.split("\t")[2].strip() for line in (data / "train.lst").read_text().splitlines()]
    model = with_training(make_tiny_model(CLASSES),
                          training={"validation_files": sorted(random.Random(0).sample(train, 200))})
    path = write_model_tarball(tmp_path / "model" / "model.tar.gz", model.onnx_bytes, model.spec)
    baseline = build_baseline(str(path), str(data), str(tmp_path / "baseline"), show_progress=False).baseline
    tests = [p.read_bytes() for p in sorted((data / "test").glob("*.png"))]
    rng = random.Random(1)
    traffic = [rng.choice(tests) for _ in range(1000)]
    capture_from_images(tmp_path / "same", traffic, model)
    capture_from_images(tmp_path / "dark", [darken(png, 0.5) for png in traffic], model)
    assert _report(tmp_path / "same", tmp_path / "out-same", baseline)["violations"] == []
    dark = _report(tmp_path / "dark", tmp_path / "out-dark", baseline)
    assert "brightness" in {v["feature_name"] for v in dark["violations"]}


@pytest.mark.parametrize("span, width", [(3, 1), (100, 5), (1800, 60), (86400, 3600)],
                         ids=["seconds", "minutes", "half-hour", "day"])
def test_auto_bucket_width_gives_a_readable_number_of_buckets(span: float, width: int) -> None:
    from scones.monitor.timeline import MAX_AUTO_BUCKETS, choose_width

    assert choose_width(0.0, span) == width
    assert span / width <= MAX_AUTO_BUCKETS
