"""PyTorch -> ONNX, checked: the exported graph must reproduce PyTorch's probabilities.

Format (see ``scones.model_artifact``): input ``pixels`` uint8 NHWC with dynamic batch,
height and width; output ``probabilities`` float32 [batch, classes]. The legacy TorchScript
exporter is used because the new one needs onnxscript, which scones does not install.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import torch

from scones.errors import ModelError
from scones.model_artifact import InputSpec
from scones.train.models import Classifier, ProbabilityModel

LOG = logging.getLogger(__name__)

OPSET: Final = 17
PARITY_ATOL: Final = 1e-4
PARITY_BATCH: Final = 100


class ExportParityError(ModelError):
    """ONNX Runtime and PyTorch disagree beyond the tolerance: the artifact would lie."""


@dataclass(frozen=True)
class ExportResult:
    onnx_bytes: bytes
    max_abs_diff: float
    checked_images: int
    probabilities: np.ndarray  # ONNX Runtime's output on the checked images


def to_onnx(model: Classifier, spec: InputSpec) -> bytes:
    wrapper = ProbabilityModel(model).eval()
    example = torch.zeros((2, spec.height, spec.width, 3), dtype=torch.uint8)
    # torch.onnx.export documents a file path as its destination; it is read back at once.
    with tempfile.TemporaryDirectory(prefix="scones-onnx-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=UserWarning)  # constant-folding notes about the flip
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(
            wrapper, (example,), path, dynamo=False, opset_version=OPSET,
            input_names=[spec.name], output_names=["probabilities"],
            dynamic_axes={spec.name: {0: "batch", 1: "height", 2: "width"}, "probabilities": {0: "batch"}},
        )
        return path.read_bytes()


def onnx_probabilities(onnx_bytes: bytes, images: np.ndarray, *, input_name: str = "pixels",
                       threads: int = 0) -> np.ndarray:
    import onnxruntime as ort

    from scones.serve.predictor import open_session

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = open_session(onnx_bytes, options)
    out = [session.run(None, {input_name: images[i:i + PARITY_BATCH]})[0]
           for i in range(0, len(images), PARITY_BATCH)]
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


@torch.no_grad()
def torch_probabilities(model: Classifier, images: np.ndarray) -> np.ndarray:
    model.eval()
    out = [model.probabilities(torch.from_numpy(images[i:i + PARITY_BATCH])).numpy()
           for i in range(0, len(images), PARITY_BATCH)]
    return np.concatenate(out)


def check_parity(reference: np.ndarray, candidate: np.ndarray, *, atol: float = PARITY_ATOL) -> float:
    """The largest absolute difference; raises when it exceeds ``atol`` (or shapes differ)."""
    if reference.shape != candidate.shape:
        raise ExportParityError(f"ONNX output has shape {candidate.shape}, PyTorch {reference.shape}")
    diff = float(np.abs(reference - candidate).max()) if reference.size else 0.0
    if not np.isfinite(diff) or diff > atol:
        raise ExportParityError(f"ONNX Runtime and PyTorch disagree by {diff:.3g} (> {atol:g}) on the "
                                "validation images; refusing to write a model that behaves differently",
                                hint="report this as a bug in scones, with the --arch and library versions")
    return diff


def export_checked(model: Classifier, spec: InputSpec, images: np.ndarray, *, reference: np.ndarray | None = None,
                   atol: float = PARITY_ATOL) -> ExportResult:
    """Export, then compare ONNX Runtime with PyTorch on ``images`` (the whole validation part).

    ``reference`` may pass PyTorch's probabilities for ``images`` when the caller already has
    them (the trainer computes them from the same model on the same pixels), to save a pass.
    """
    onnx_bytes = to_onnx(model, spec)
    if reference is None:
        reference = torch_probabilities(model, images)
    candidate = onnx_probabilities(onnx_bytes, images)
    diff = check_parity(reference, candidate, atol=atol)
    LOG.info("ONNX parity on %d images: max |diff| %.2e", len(images), diff)
    return ExportResult(onnx_bytes=onnx_bytes, max_abs_diff=diff, checked_images=len(images), probabilities=candidate)
