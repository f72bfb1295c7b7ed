"""Tiny synthetic staged datasets: each class is noise around its own colour, so a small
network separates them in one or two epochs."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]


def png_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def write_dataset(root: Path, classes: Sequence[str] = ("red", "green"), *, train_per_class: int = 12,
                  test_per_class: int = 4, size: int = 32, seed: int = 0, noise: float = 40.0) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    splits: dict[str, dict[str, object]] = {}
    row = 0
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        (root / split).mkdir(exist_ok=True)
        lines = []
        for label, name in enumerate(classes):
            for i in range(per_class):
                base = np.array(COLOURS[label % len(COLOURS)], dtype=np.float32)
                img = np.clip(base + rng.normal(0, noise, (size, size, 3)), 0, 255).astype(np.uint8)
                file = f"{name}_{split}_{i:03d}.png"
                (root / split / file).write_bytes(png_bytes(img))
                lines.append(f"{row}\t{label}\t{file}")
                row += 1
        (root / f"{split}.lst").write_text("\n".join(lines) + "\n")
        splits[split] = {"count": len(lines), "per_class": {c: per_class for c in classes}}
    (root / "dataset.json").write_text(json.dumps({"format_version": 1, "classes": list(classes), "splits": splits,
                                                    "source": {"kind": "synthetic"},
                                                    "created": "2026-01-01T00:00:00Z"}))
    return root


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(*args: object, **kwargs: object) -> Path:
        return write_dataset(tmp_path / f"dataset{next(counter)}", *args, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def tiny_dataset(make_dataset: Callable[..., Path]) -> Path:
    return make_dataset()
