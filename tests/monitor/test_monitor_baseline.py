from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scones.errors import DataError
from scones.model_artifact import write_model_tarball
from scones.monitor.baseline import build_baseline, load_baseline
from scones.monitor.calibration import Reliability, estimate_accuracy
from scones.monitor.errors import BaselineError, MonitorError
from scones.monitor.schema import NumericStatistics, StringStatistics
from scones.testing import make_tiny_model


def test_baseline_runs_the_model_over_exactly_the_validation_files(
        monitor_setup: Callable[..., dict[str, Path]]) -> None:
    paths = monitor_setup(n_train=40, n_test=10)
    result = build_baseline(str(paths["model"]), str(paths["data"]), str(paths["root"] / "baseline"),
                            show_progress=False)
    assert result.warnings == ("model.json has no metrics.reliability; calibration measured on the baseline's "
                               "validation_files",)
    folder = paths["root"] / "baseline"
    assert sorted(p.name for p in folder.iterdir()) == ["constraints.json", "scones_baseline.json", "statistics.json"]
    stats = json.loads((folder / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 20  # every other train image
    names = [f["name"] for f in stats["features"]]
    assert names == ["confidence", "prob_bicycle", "prob_motorcycle", "predicted_class", "image_width",
                     "image_height", "brightness", "contrast", "saturation", "content_type"]
    loaded = load_baseline(str(folder))
    assert loaded == result.baseline
    conf = loaded.statistics.feature("confidence")
    assert isinstance(conf, NumericStatistics) and conf.sample().size == 20 and 0.5 <= conf.min <= conf.max <= 1.0
    ctype = loaded.statistics.feature("content_type")
    assert isinstance(ctype, StringStatistics) and ctype.as_counts() == {"image/png": 20}
    constraint = loaded.constraints.feature("predicted_class")
    assert constraint is not None and constraint.completeness == 1.0 and constraint.domains
    assert loaded.info.accuracy is not None and 0.0 <= loaded.info.accuracy <= 1.0


def test_without_validation_files_the_test_split_is_used_with_a_warning(
        monitor_setup: Callable[..., dict[str, Path]]) -> None:
    reliability = {"bin_edges": [i / 10 for i in range(11)], "confidence": [0.05 + i / 10 for i in range(10)],
                   "accuracy": [0.5] * 10, "count": [10] * 10}
    paths = monitor_setup(n_train=20, n_test=12, training={}, metrics={"reliability": reliability})
    result = build_baseline(str(paths["model"]), str(paths["data"]), str(paths["root"] / "b"), show_progress=False)
    assert result.warnings == ("model.json lists no training.validation_files; the baseline uses the test split",)
    info = result.baseline.info
    assert info.item_count == 12 and info.reliability_source == "model.json metrics.reliability"
    assert info.reliability == Reliability.from_dict(reliability)


def test_dataset_problems_are_clear_errors(tmp_path: Path, monitor_setup: Callable[..., dict[str, Path]]) -> None:
    paths = monitor_setup(n_train=10, n_test=4, training={"validation_files": ["not_there.png"]})
    with pytest.raises(MonitorError, match="not in train.lst"):
        build_baseline(str(paths["model"]), str(paths["data"]), str(tmp_path / "b"), show_progress=False)
    other = make_tiny_model(["cat", "dog"])
    model = write_model_tarball(tmp_path / "m2" / "model.tar.gz", other.onnx_bytes, other.spec)
    with pytest.raises(MonitorError, match="differ from the model's"):
        build_baseline(str(model), str(paths["data"]), str(tmp_path / "b"), show_progress=False)
    with pytest.raises(DataError, match="holds no dataset"):
        build_baseline(str(model), str(tmp_path / "nothing"), str(tmp_path / "b"), show_progress=False)
    paths = monitor_setup(n_train=10, n_test=4)  # validation files: every other train image
    (paths["data"] / "train" / "train_0004.png").unlink()
    with pytest.raises(DataError, match="train/train_0004.png is missing"):
        build_baseline(str(paths["model"]), str(paths["data"]), str(tmp_path / "b"), show_progress=False)
    with pytest.raises(BaselineError, match="No statistics.json"):
        load_baseline(str(tmp_path / "b"))


def test_baseline_on_the_real_dataset(tmp_path: Path, shared_data: Path) -> None:
    model = make_tiny_model()
    path = write_model_tarball(tmp_path / "model.tar.gz", model.onnx_bytes, model.spec)
    result = build_baseline(str(path), str(shared_data / "cifar100-bicycle-motorcycle"), str(tmp_path / "b"),
                            show_progress=False)
    stats = result.baseline.statistics
    assert stats.item_count == 200
    width = stats.feature("image_width")
    assert isinstance(width, NumericStatistics) and width.min == width.max == 32  # RGBA PNGs, alpha dropped


def test_reliability_estimates_accuracy_of_a_calibrated_model() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 20_000)
    correct = rng.uniform(size=confidence.size) < confidence  # calibrated by construction
    table = Reliability.measure(confidence, correct)
    assert sum(table.count) == confidence.size and len(table.bin_edges) == 11
    fresh = rng.uniform(0.5, 1.0, 5000)
    truth = float(np.mean(rng.uniform(size=fresh.size) < fresh))
    assert estimate_accuracy(fresh, table) == pytest.approx(truth, abs=0.02)
    overconfident = Reliability.measure(confidence, rng.uniform(size=confidence.size) < 0.5)
    assert estimate_accuracy(fresh, overconfident) == pytest.approx(0.5, abs=0.03)
    assert estimate_accuracy(fresh, None) == pytest.approx(float(fresh.mean()))
    assert np.isnan(estimate_accuracy(np.array([np.nan]), table))
    with pytest.raises(BaselineError):
        Reliability.from_dict({"bin_edges": [0, 1], "confidence": [], "accuracy": [], "count": []})


@pytest.mark.parametrize("name, text, message", [
    ("statistics.json", "{not json", "is not valid JSON"),
    ("constraints.json", '{"features": 3}', "not in Model Monitor's schema"),
    ("scones_baseline.json", '{"format_version": 99}', "format_version 99"),
    ("scones_baseline.json", '{"format_version": 1}', "is malformed"),
    ("scones_baseline.json", '{"format_version": 1, "classes": []}', "at least two distinct class names"),
    ("scones_baseline.json", '{"format_version": 1, "classes": "bicycle"}', "at least two distinct class names"),
    ("scones_baseline.json", '{"format_version": 1, "classes": ["a", "a"]}', "at least two distinct class names"),
], ids=["statistics-not-json", "constraints-shape", "info-version", "info-fields", "no-classes", "classes-string",
        "classes-repeated"])
def test_broken_baseline_files_are_clear_errors(tmp_path: Path, monitor_setup: Callable[..., dict[str, Path]],
                                                name: str, text: str, message: str) -> None:
    paths = monitor_setup(n_train=20, n_test=4)
    folder = paths["root"] / "baseline"
    build_baseline(str(paths["model"]), str(paths["data"]), str(folder), show_progress=False)
    (folder / name).write_text(text)
    with pytest.raises(BaselineError, match=message):
        load_baseline(str(folder))


def test_sparse_bins_are_shrunk_towards_their_confidence() -> None:
    table = Reliability.from_dict({"bin_edges": [i / 10 for i in range(11)],
                                   "confidence": [0.0] * 5 + [0.55, 0.0, 0.0, 0.0, 0.95],
                                   "accuracy": [0.0] * 5 + [0.0, 0.0, 0.0, 0.0, 0.9],
                                   "count": [0] * 5 + [2, 0, 0, 0, 998]})
    got = table.expected_correct(np.array([0.55, 0.75, 0.97]))
    assert got[0] == pytest.approx((0 * 2 + 2 * 0.55) / 4)  # two wrong answers do not mean 0 %
    assert got[1] == pytest.approx(0.75)  # empty bin: the prediction's own confidence
    assert got[2] == pytest.approx((0.9 * 998 + 2 * 0.95) / 1000)


def test_a_model_whose_graph_disagrees_with_its_json_is_a_model_error(tmp_path: Path) -> None:
    from scones.errors import ModelError
    from scones.model_artifact import ModelSpec, build_tarball, read_model_tarball
    from scones.monitor.baseline import Classifier

    tiny = make_tiny_model()
    wrong_output = read_model_tarball(build_tarball(tiny.onnx_bytes, ModelSpec(
        **{**tiny.spec.__dict__, "output_name": "logits"})))
    with pytest.raises(ModelError, match="does not run as model.json describes it"):
        Classifier(wrong_output).predict([np.zeros((32, 32, 3), np.uint8)])
    three_classes = read_model_tarball(build_tarball(tiny.onnx_bytes, ModelSpec(
        **{**tiny.spec.__dict__, "classes": ["a", "b", "c"]})))
    with pytest.raises(ModelError, match="shape"):
        Classifier(three_classes).predict([np.zeros((32, 32, 3), np.uint8)])
