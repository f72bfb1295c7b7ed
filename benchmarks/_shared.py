"""What the benchmarks share: where ``../shared/data`` is, and the PNG payloads they send.

The benchmarks run as scripts (``python benchmarks/x.py``), so this folder is on ``sys.path``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: ``SCONES_SHARED_DATA``, else ``../shared/data`` beside the checkout (or beside a worktrees' folder).
SHARED_DATA = next((p for p in (Path(os.environ.get("SCONES_SHARED_DATA", REPO.parent / "shared" / "data")),
                                REPO.parent.parent / "shared" / "data") if p.is_dir()),
                   REPO.parent / "shared" / "data")
#: The bicycle/motorcycle subset in SageMaker's layout (train/, test/, *.lst).
CIFAR_FOLDER = SHARED_DATA / "cifar100-bicycle-motorcycle"


def test_pngs(limit: int = 200) -> list[bytes]:
    """The real CIFAR test PNGs when the shared data is at hand, else ``limit`` random 32x32 PNGs."""
    folder = CIFAR_FOLDER / "test"
    if folder.is_dir():
        return [p.read_bytes() for p in sorted(folder.glob("*.png"))[:limit]]
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for _ in range(limit):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out
