from __future__ import annotations

from pathlib import Path

import pytest

from scones.cli import main
from scones.config import Settings
from scones.data.dataset import dataset_fingerprint, load_dataset_info
from scones.demo import DemoStageError, DemoState, default_stages, run_demo, stage_data, summarize_batch
from scones.errors import DataError
from scones.model_artifact import ModelSpec, build_tarball
from scones.store import open_store
from scones.testing import make_tiny_model
from scones.train.config import TrainConfig


def _settings(home: Path, source: Path) -> Settings:
    return Settings(home=home, cifar_source=str(source), progress=False)


def _cached_tiny_model(settings: Settings, *, threshold: float = 0.93, fingerprint: str | None = None) -> None:
    """A real (tiny) model in the demo's model folder, recorded as trained on the staged data."""
    artifact = make_tiny_model()
    fp = fingerprint or dataset_fingerprint(open_store(settings.default_uri("dataset")))
    spec = ModelSpec(**{**artifact.spec.__dict__, "training": {
        "arch": "tiny", "dataset_fingerprint": fp, "config": TrainConfig(threshold=threshold).resolved().to_dict()},
        "metrics": {"test": {"accuracy": 0.5, "accuracy_ci95": [0.4, 0.6],
                             "at_threshold": {"coverage": 0.1, "precision": 0.5}}}})
    open_store(settings.default_uri("model")).put_bytes("model.tar.gz", build_tarball(artifact.onnx_bytes, spec))




def test_demo_reuses_the_cached_model_and_reports_real_numbers(cifar_archive: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home", cifar_archive)
    run_demo(settings, stages=[("stage data", stage_data)], echo=lambda _: None)
    _cached_tiny_model(settings, threshold=0.55)
    lines: list[str] = []
    run_demo(settings, threshold=0.55, echo=lines.append)
    text = "\n".join(lines)
    assert "reused the cached model" in text
    test_images = len(load_dataset_info(open_store(settings.default_uri("dataset"))).entries("test"))
    assert f"{test_images} images in one batch execution" in text
    assert "endpoint stopped; capture flushed" in text
    assert f"{test_images} captured images analysed" in text
    report = settings.home / "store" / "scones" / "monitor" / "report" / "report.html"
    assert report.is_file() and f"monitoring report:       {report.resolve()}" in text
    captures = list((settings.home / "store" / "scones" / "data_capture").rglob("*.jsonl"))
    assert captures, "the endpoint wrote no capture files"
    assert list((settings.home / "store" / "scones" / "executions").glob("*.json"))


def test_demo_trains_again_when_the_data_changed(cifar_archive: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path / "home", cifar_archive)
    run_demo(settings, stages=[("stage data", stage_data)], echo=lambda _: None)
    _cached_tiny_model(settings, fingerprint="stale")
    calls: list[str] = []

    def fake_train(data_uri: str, out_uri: str, config: TrainConfig, **_: object) -> None:
        calls.append(data_uri)
        _cached_tiny_model(settings)

    monkeypatch.setattr("scones.train.run.train", fake_train)
    stages = [s for s in default_stages() if s[0] == "train model"]
    lines: list[str] = []
    run_demo(settings, stages=stages, echo=lines.append)
    assert calls == [settings.default_uri("dataset")]
    assert "trained tiny" in "\n".join(lines)
    calls.clear()
    run_demo(settings, stages=stages, echo=lines.append)
    assert calls == []  # now cached
    run_demo(settings, stages=stages, retrain=True, echo=lines.append)
    assert len(calls) == 1


def test_a_failing_stage_names_itself_and_leaves_nothing_running(tmp_path: Path) -> None:
    stopped: list[bool] = []

    def start(state: DemoState) -> str:
        state.resources.callback(lambda: stopped.append(True))
        return "started"

    def fail(state: DemoState) -> str:
        raise DataError("the archive is corrupt", hint="download it again")

    with pytest.raises(DemoStageError, match=r"stopped at stage 2 \(broken\): the archive is corrupt") as exc:
        run_demo(Settings(home=tmp_path), stages=[("start", start), ("broken", fail)], echo=lambda _: None)
    assert exc.value.hint == "download it again"
    assert stopped == [True]


def test_summarize_batch_counts_outcomes_and_accuracy() -> None:
    output = {"results": [
        {"status": "ACCEPTED", "s3_key": "a", "inferences": [0.9, 0.1]},
        {"status": "ACCEPTED", "s3_key": "b", "inferences": [0.95, 0.05]},
        {"status": "LOW_CONFIDENCE", "s3_key": "c", "inferences": [0.6, 0.4]},
        {"status": "ERROR", "s3_key": "d"},
    ]}
    summary = summarize_batch(output, {"a": 0, "b": 1, "c": 0}, 2.0)
    assert (summary["accepted"], summary["low_confidence"], summary["errored"], summary["correct"]) == (2, 1, 1, 1)
    assert summary["per_second"] == 2.0


def test_demo_command_stops_cleanly_on_a_bad_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "not-cifar.tar.gz"
    bad.write_bytes(b"garbage")
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--source", str(bad)])
    err = capsys.readouterr().err
    assert exc.value.code != 0
    assert err.startswith("Error: the demo stopped at stage 1 (stage data)") and "Traceback" not in err
