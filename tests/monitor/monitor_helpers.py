"""Builders of small, real monitor inputs: PNG images, a staged dataset, model.json variants, captures."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from scones.model_artifact import ModelArtifact, ModelSpec, build_tarball, read_model_tarball, write_model_tarball
from scones.monitor.baseline import Classifier
from scones.monitor.features import decode_image
from scones.monitor.simulate import make_record, spread, write_capture
from scones.testing import make_tiny_model

CLASSES = ("bicycle", "motorcycle")
START = datetime(2025, 10, 4, 8, 0, tzinfo=UTC)


def make_pngs(n: int, seed: int, *, size: int = 32) -> list[bytes]:
    """Photo-like test images: a random base colour per image plus texture noise, as PNG bytes."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        base = rng.uniform(40, 215, size=3)
        noise = rng.normal(0, 25, size=(size, size, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def stage_dataset(root: Path, train: Sequence[bytes], test: Sequence[bytes]) -> Path:
    """The data issue's layout: train/, test/, *.lst (row, label, file) and dataset.json."""
    for split, images in (("train", train), ("test", test)):
        (root / split).mkdir(parents=True, exist_ok=True)
        lines = []
        for i, png in enumerate(images):
            name = f"{split}_{i:04d}.png"
            (root / split / name).write_bytes(png)
            lines.append(f"{i}\t{i % 2}\t{name}\n")
        (root / f"{split}.lst").write_text("".join(lines))
    (root / "dataset.json").write_text('{"format_version": 1, "classes": ["bicycle", "motorcycle"], '
                                       '"splits": {}, "source": {}, "created": "2025-10-04T00:00:00Z"}')
    return root


def with_training(model: ModelArtifact, **extra: object) -> ModelArtifact:
    """The tiny model with extra model.json fields (validation_files, metrics.reliability…)."""
    spec = ModelSpec(**{**model.spec.__dict__, **extra})
    return read_model_tarball(build_tarball(model.onnx_bytes, spec))


def capture_from_images(root: Path, images: Sequence[bytes], model: ModelArtifact, *,
                        start: datetime = START, hours: float = 2.0, rotate_seconds: float = 1800) -> list[Path]:
    probs = Classifier(model).predict([decode_image(b) for b in images])
    times = spread(len(images), start, timedelta(hours=hours))
    return write_capture(root, (make_record(img, p, t) for img, p, t in zip(images, probs, times, strict=True)),
                         rotate_seconds=rotate_seconds)
