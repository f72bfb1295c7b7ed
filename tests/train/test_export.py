from __future__ import annotations

import numpy as np
import pytest
import torch

from scones.model_artifact import InputSpec
from scones.train.config import TrainConfig
from scones.train.export import ExportParityError, check_parity, export_checked, onnx_probabilities
from scones.train.models import build_classifier


def random_images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def small_model(num_classes: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_classifier(TrainConfig(arch="small_resnet").resolved(), num_classes)
    model.temperature.fill_(0.7)
    return model.eval()


def test_export_matches_torch_and_takes_any_image_size() -> None:
    model = small_model()
    result = export_checked(model, InputSpec(), random_images(12))
    assert result.max_abs_diff <= 1e-4 and result.checked_images == 12
    # Resize is in the graph: other sizes and batch sizes work and still match PyTorch.
    other = random_images(3, size=45, seed=1)
    got = onnx_probabilities(result.onnx_bytes, other)
    with torch.no_grad():
        want = model.probabilities(torch.from_numpy(other)).numpy()
    assert got.shape == (3, 3) and np.abs(got - want).max() <= 1e-4
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_export_bakes_in_temperature() -> None:
    model = small_model(2)
    images = random_images(4)
    sharp = onnx_probabilities(export_checked(model, InputSpec(), images).onnx_bytes, images)
    model.temperature.fill_(5.0)
    soft = onnx_probabilities(export_checked(model, InputSpec(), images).onnx_bytes, images)
    assert soft.max(axis=1).mean() < sharp.max(axis=1).mean()


def test_parity_failure_refuses_export() -> None:
    ref = np.array([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)
    assert check_parity(ref, ref + 5e-5) <= 1e-4
    with pytest.raises(ExportParityError, match="disagree by 0.001"):
        check_parity(ref, ref + np.float32(1e-3))
    with pytest.raises(ExportParityError, match="shape"):
        check_parity(ref, ref[:1])
    with pytest.raises(ExportParityError):
        check_parity(ref, np.full_like(ref, np.nan))


def test_export_checked_fails_when_the_graph_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.train.export as export

    real = export.onnx_probabilities
    monkeypatch.setattr(export, "onnx_probabilities", lambda b, x, **k: real(b, x, **k)[:, ::-1].copy())
    with pytest.raises(ExportParityError):
        export_checked(small_model(2), InputSpec(), random_images(4))
