"""Fixtures for the monitor tests (the builders live in monitor_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from monitor_helpers import CLASSES, make_pngs, stage_dataset, with_training

from scones.model_artifact import ModelArtifact, write_model_tarball
from scones.testing import make_tiny_model


@pytest.fixture
def tiny_model() -> ModelArtifact:
    return make_tiny_model(CLASSES)


@pytest.fixture
def monitor_setup(tmp_path: Path, tiny_model: ModelArtifact) -> Callable[..., dict[str, Path]]:
    """Stage a dataset, write a model listing its validation files, and return the paths."""

    def build(n_train: int = 160, n_test: int = 60, seed: int = 1, **spec_extra: object) -> dict[str, Path]:
        data = stage_dataset(tmp_path / "data", make_pngs(n_train, seed), make_pngs(n_test, seed + 100))
        validation = [f"train_{i:04d}.png" for i in range(0, n_train, 2)]
        spec_extra.setdefault("training", {"validation_files": validation})
        model = with_training(tiny_model, **spec_extra)
        path = write_model_tarball(tmp_path / "model" / "model.tar.gz", model.onnx_bytes, model.spec)
        return {"data": data, "model": path, "root": tmp_path}

    return build
