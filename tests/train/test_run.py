"""End-to-end ``train()`` on tiny synthetic data: artifact, metrics, bad inputs."""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scones.errors import DataError, SconesError, UsageError
from scones.model_artifact import load_model
from scones.train.config import TrainConfig, UnknownArchitectureError
from scones.train.run import OutputError, train

FAST = TrainConfig(arch="small_resnet", epochs=2, batch_size=12, threads=1)


def test_train_writes_checked_artifact_metrics_and_charts(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "model"
    report = train(str(tiny_dataset), str(out), FAST)
    assert sorted(p.name for p in out.iterdir()) == ["coverage_precision.png", "metrics.json", "model.tar.gz",
                                                    "reliability.png"]
    with tarfile.open(out / "model.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["model.json", "model.onnx"]
    artifact = load_model(out / "model.tar.gz")
    spec = artifact.spec
    assert spec.classes == ["red", "green"]
    assert (spec.input.height, spec.input.width) == (32, 32)
    training = spec.training
    # 12 per class, round(20 %) = 2 held out per class, stratified.
    assert len(training["validation_files"]) == 4
    assert training["validation_files"] == sorted(training["validation_files"])
    assert sum(f.startswith("red") for f in training["validation_files"]) == 2
    assert training["config"]["arch"] == "small_resnet" and training["parity_max_abs_diff"] <= 1e-4
    metrics = spec.metrics
    assert metrics == json.loads((out / "metrics.json").read_text())
    assert metrics["threshold_default"] == 0.93
    rel = metrics["reliability"]
    assert len(rel["bin_edges"]) == 11 and sum(rel["count"]) == 4
    test = metrics["test"]
    assert test["n"] == 8 and sum(map(sum, test["confusion_matrix"])) == 8
    assert set(test["per_class"]) == {"red", "green"}
    assert {"coverage", "precision"} <= set(test["at_threshold"])
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.metrics["test"]["accuracy"] == test["accuracy"]
    assert {"torch", "onnxruntime", "numpy"} <= set(spec.versions)


def test_same_seed_same_model_other_seed_other_split(make_dataset: Callable[..., Path], tmp_path: Path) -> None:
    data = make_dataset(("a", "b", "c"), train_per_class=8, test_per_class=2)
    first = train(str(data), str(tmp_path / "m1"), TrainConfig(arch="small_resnet", epochs=1, seed=3)).spec
    second = train(str(data), str(tmp_path / "m2"), TrainConfig(arch="small_resnet", epochs=1, seed=3)).spec
    other = train(str(data), str(tmp_path / "m3"), TrainConfig(arch="small_resnet", epochs=1, seed=4)).spec
    assert first.onnx_sha256 == second.onnx_sha256
    assert first.training["validation_files"] == second.training["validation_files"]
    assert first.training["validation_files"] != other.training["validation_files"]
    assert first.classes == ["a", "b", "c"] and len(first.metrics["test"]["confusion_matrix"]) == 3


def test_learns_separable_classes(make_dataset: Callable[..., Path], tmp_path: Path) -> None:
    data = make_dataset(("a", "b", "c"), train_per_class=20, test_per_class=6, noise=20.0)
    report = train(str(data), str(tmp_path / "m"), TrainConfig(arch="small_resnet", epochs=6, batch_size=16))
    assert report.metrics["test"]["accuracy"] >= 0.8


@pytest.mark.slow
def test_efficientnet_one_epoch_small_resolution(tiny_dataset: Path, tmp_path: Path) -> None:
    report = train(str(tiny_dataset), str(tmp_path / "m"),
                   TrainConfig(arch="efficientnet_lite0", epochs=1, image_size=64, batch_size=12))
    assert report.spec.training["config"]["image_size"] == 64
    assert report.spec.training["parity_max_abs_diff"] <= 1e-4
    artifact = load_model(tmp_path / "m")
    assert artifact.classes == ["red", "green"]


# -- bad input ---------------------------------------------------------------------------------------------


def assert_nothing_written(out: Path) -> None:
    assert not out.exists()
    leftovers = [p.name for p in out.parent.iterdir()] if out.parent.exists() else []
    assert leftovers == [], leftovers


def test_missing_dataset(tmp_path: Path) -> None:
    out = tmp_path / "out" / "model"
    with pytest.raises(DataError, match="holds no dataset"):
        train(str(tmp_path / "nowhere"), str(out), FAST)
    assert_nothing_written(out)


@pytest.mark.parametrize("damage, message", [
    (lambda root: (root / "test.lst").unlink(), "half-staged: test.lst is missing"),
    (lambda root: (root / "train" / "green_train_003.png").unlink(),
     r"train.lst are missing \(first: train/green_train_003.png\)"),
    (lambda root: (root / "train.lst").write_text((root / "train.lst").read_text().split("\n", 1)[1]),
     "train.lst has 23 images but dataset.json says 24"),
], ids=["no-lst", "no-png", "count-mismatch"])
def test_half_staged_dataset(tiny_dataset: Path, tmp_path: Path, damage: Callable[[Path], None], message: str) -> None:
    damage(tiny_dataset)
    out = tmp_path / "out" / "model"
    with pytest.raises(DataError, match=message):
        train(str(tiny_dataset), str(out), FAST)
    assert_nothing_written(out)


def test_one_class_dataset(make_dataset: Callable[..., Path], tmp_path: Path) -> None:
    data = make_dataset(("only",))
    with pytest.raises(DataError, match="1 class.*at least two"):
        train(str(data), str(tmp_path / "m"), FAST)


def test_one_class_present_in_train(tiny_dataset: Path, tmp_path: Path) -> None:
    lst = tiny_dataset / "train.lst"
    lines = lst.read_text().splitlines()
    lst.write_text("\n".join(line.replace("\t1\t", "\t0\t") for line in lines) + "\n")
    doc = json.loads((tiny_dataset / "dataset.json").read_text())
    doc["splits"]["train"]["per_class"] = {"red": 24, "green": 0}
    (tiny_dataset / "dataset.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="only one class"):
        train(str(tiny_dataset), str(tmp_path / "m"), FAST)


def test_corrupt_png_is_named(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / "train" / "red_train_005.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = tmp_path / "out" / "model"
    with pytest.raises(DataError, match=r"red_train_005\.png is not a readable PNG"):
        train(str(tiny_dataset), str(out), FAST)
    assert_nothing_written(out)


def test_unknown_architecture() -> None:
    with pytest.raises(UnknownArchitectureError, match="(?s)resnet9000.*efficientnet_lite0, small_resnet"):
        TrainConfig(arch="resnet9000")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_output_fails_before_training(tiny_dataset: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="Cannot write"):
            train(str(tiny_dataset), str(locked / "model"), FAST)
    finally:
        locked.chmod(0o700)


def test_output_under_a_file_fails_before_training(tiny_dataset: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SconesError):
        train(str(tiny_dataset), str(blocker / "model"), FAST)
    assert blocker.read_text() == "x"


def test_output_holding_other_files_is_refused_before_training(
        tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--out pointing at a folder of other things (or at the dataset itself) must not wipe it."""
    import scones.train.trainer as trainer

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("training must not start")

    monkeypatch.setattr(trainer, "train_classifier", no_training)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious")
    for out in (victim, tiny_dataset):
        with pytest.raises(SconesError, match="already holds files that are not this command's output"):
            train(str(tiny_dataset), str(out), FAST)
    assert (victim / "notes.txt").read_text() == "precious"
    assert (tiny_dataset / "dataset.json").is_file() and any((tiny_dataset / "train").iterdir())


def test_failed_run_keeps_previous_model(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    train(str(tiny_dataset), str(out), FAST)
    before = (out / "model.tar.gz").read_bytes()
    (tiny_dataset / "test" / "red_test_000.png").write_bytes(b"garbage")
    with pytest.raises(DataError):
        train(str(tiny_dataset), str(out), FAST)
    assert (out / "model.tar.gz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert np.frombuffer(before[:2], dtype=np.uint8).tolist() == [0x1F, 0x8B]


def test_write_failure_mid_publish_leaves_previous_model(tiny_dataset: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from scones.store import LocalStore

    out = tmp_path / "model"
    train(str(tiny_dataset), str(out), FAST)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_put = LocalStore.put_bytes

    def put_bytes(self: LocalStore, key: str, data: bytes) -> None:
        if key == "metrics.json":
            raise OSError(28, "No space left on device")
        real_put(self, key, data)

    monkeypatch.setattr(LocalStore, "put_bytes", put_bytes)
    with pytest.raises(OutputError, match="No space left on device"):
        train(str(tiny_dataset), str(out), FAST)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".scones")] == []


def test_finetuning_is_recorded_in_the_history(tiny_dataset: Path, tmp_path: Path) -> None:
    report = train(str(tiny_dataset), str(tmp_path / "model"),
                   TrainConfig(arch="efficientnet_lite0", epochs=1, image_size=32, batch_size=12, finetune_epochs=1),
                   pretrained=False)
    row = report.spec.training["history"][-1]
    assert row["finetune"] == 1.0 and row["val_nll_calibrated"] >= 0 and row["val_nll_calibrated_head_only"] >= 0


def test_finetuning_that_hurts_validation_is_undone() -> None:
    import torch

    from scones.train.data import Split
    from scones.train.models import build_classifier
    from scones.train.trainer import cache_features, cached_logits, finetune

    rng = np.random.default_rng(0)
    labels = np.arange(24) % 2
    images = rng.integers(0, 60, (24, 32, 32, 3), dtype=np.uint8) + (labels * 150).astype(np.uint8)[:, None, None, None]
    fit, val = (Split(n, images[s], labels[s], [f"{n}{i}.png" for i in range(12)])
                for n, s in (("fit", slice(0, 12)), ("val", slice(12, 24))))
    config = TrainConfig(arch="efficientnet_lite0", image_size=32, finetune_learning_rate=5.0).resolved()
    model = build_classifier(config, 2, pretrained=False)
    features = cache_features(model, fit.images)
    model.feature_mean.copy_(features.mean(dim=(0, 1)))
    model.feature_std.copy_(features.std(dim=(0, 1)) + 1e-6)
    model.eval()
    head_logits = cached_logits(model, cache_features(model, val.images)).numpy()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history: list[dict[str, float]] = []
    # A learning rate of 5 wrecks the network: the head alone must be what is left.
    assert finetune(model, fit, val, head_logits, config, torch.Generator().manual_seed(0), history) is None
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert history[-1]["val_nll_calibrated"] >= history[-1]["val_nll_calibrated_head_only"]


def test_finetuning_settings_are_checked() -> None:
    with pytest.raises(UsageError, match="fine-tuning"):
        TrainConfig(finetune_epochs=-1)
    with pytest.raises(UsageError, match="fine-tuning"):
        TrainConfig(finetune_learning_rate=0)
