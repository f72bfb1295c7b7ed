"""A staged dataset as training needs it: decoded splits, and a held-out validation part.

Reading and checking the staged layout is ``scones.data.dataset``'s job; this module
only turns it into arrays and checks, before anything is decoded, that a classifier
can be trained on it, so a half-staged dataset or a broken PNG fails in seconds with
the file named, not mid-run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scones.data.dataset import SPLITS, check_trainable, load_dataset_info, load_split
from scones.errors import DataError
from scones.store import Store

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """One split, decoded: ``images`` uint8 [n, h, w, 3] RGB, ``labels`` int64 [n]."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    files: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def subset(self, index: np.ndarray, name: str) -> Split:
        return Split(name, self.images[index], self.labels[index], [self.files[i] for i in index])


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(fit, held_out)``: ``fraction`` of every class held out, reproducibly for ``seed``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    fit: list[int] = []
    held: list[int] = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        n_held = int(round(len(idx) * fraction))
        n_held = min(max(n_held, 1), len(idx) - 1)
        if len(idx) < 2:
            raise DataError(f"Class index {cls} has {len(idx)} training image(s); at least 2 are needed "
                            "to hold one out for validation")
        held.extend(idx[:n_held].tolist())
        fit.extend(idx[n_held:].tolist())
    return np.sort(np.array(fit)), np.sort(np.array(held))


@dataclass(frozen=True)
class Dataset:
    classes: list[str]
    train: Split
    test: Split
    uri: str


def load_dataset(store: Store, *, show_progress: bool = False) -> Dataset:
    info = load_dataset_info(store)
    check_trainable(store, info)
    splits = {}
    for name in SPLITS:
        images, labels = load_split(store, info, name, show_progress=show_progress)
        splits[name] = Split(name, images, labels, [e.filename for e in info.entries(name)])
    LOG.info("dataset %s: %d classes, %d train, %d test images", store.uri, len(info.classes),
             len(splits["train"]), len(splits["test"]))
    return Dataset(classes=list(info.classes), train=splits["train"], test=splits["test"], uri=store.uri)
