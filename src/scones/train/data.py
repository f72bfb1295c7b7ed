"""Read a staged dataset from the store into arrays, and hold out a validation part.

Staged layout (the data stage's contract): ``dataset.json``, ``train.lst``, ``test.lst``,
``train/<file>.png``, ``test/<file>.png``; a ``.lst`` line is ``row<TAB>label<TAB>file`` with
``file`` relative to the split folder. Everything is checked before training starts, so a
half-staged dataset or a broken PNG fails in seconds with the file named, not mid-run.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scones.errors import DataError, NotFoundError, StoreError
from scones.progress import progress
from scones.store import Store

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

DATASET_JSON = "dataset.json"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    classes: list[str]
    counts: dict[str, int]


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


def read_dataset_info(store: Store) -> DatasetInfo:
    """``dataset.json``'s classes and split counts.

    The one place that reads the data stage's description; swap it for
    ``scones.data.dataset.load_dataset_info`` once that is on main.
    """
    try:
        raw: Any = json.loads(store.get_text(DATASET_JSON))
    except NotFoundError as exc:
        raise DataError(f"No staged dataset at {store.uri} ({DATASET_JSON} is missing)",
                        hint="stage one with 'scones data stage', or pass --data pointing at a staged dataset") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{store.uri_for(DATASET_JSON)} is not valid JSON: {exc}",
                        hint="stage the dataset again with 'scones data stage'") from exc
    classes = raw.get("classes") if isinstance(raw, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        raise DataError(f"{store.uri_for(DATASET_JSON)} has no list of class names under 'classes'",
                        hint="stage the dataset again with 'scones data stage'")
    if len(classes) < 2:
        raise DataError(f"The dataset at {store.uri} has {len(classes)} class(es) ({', '.join(classes) or 'none'}); "
                        "a classifier needs at least two", hint="stage at least two classes")
    if len(set(classes)) != len(classes):
        raise DataError(f"{store.uri_for(DATASET_JSON)} lists a class name twice: {classes}")
    splits = raw.get("splits")
    splits = splits if isinstance(splits, dict) else {}
    counts: dict[str, int] = {}
    for name in SPLITS:
        entry = splits.get(name)
        count = entry.get("count", -1) if isinstance(entry, dict) else -1
        counts[name] = count if isinstance(count, int) else -1
    return DatasetInfo(classes=list(classes), counts=counts)


def parse_lst(text: str, *, origin: str, num_classes: int) -> list[tuple[int, str]]:
    """``(label, file)`` per line of a SageMaker ``.lst`` manifest, checked."""
    entries: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise DataError(f"{origin} line {lineno}: expected 'row<TAB>label<TAB>file', got {line!r}")
        try:
            label = int(float(parts[1]))
        except ValueError as exc:
            raise DataError(f"{origin} line {lineno}: label {parts[1]!r} is not a number") from exc
        if not 0 <= label < num_classes:
            raise DataError(f"{origin} line {lineno}: label {label} is outside 0..{num_classes - 1}",
                            hint="the labels must index the classes in dataset.json")
        entries.append((label, parts[2].strip()))
    if not entries:
        raise DataError(f"{origin} lists no images", hint="stage the dataset again with 'scones data stage'")
    return entries


def decode_png(data: bytes, *, origin: str) -> np.ndarray:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"Cannot read image {origin}: {exc}",
                        hint="replace or remove the file (and its .lst line), or stage the dataset again") from exc


def load_split(store: Store, name: str, classes: Sequence[str], *, expected: int = -1,
               show_progress: bool = False) -> Split:
    import numpy as np

    lst_key = f"{name}.lst"
    try:
        lst_text = store.get_text(lst_key)
    except NotFoundError as exc:
        raise DataError(f"The dataset at {store.uri} is half-staged: {lst_key} is missing",
                        hint="stage the dataset again with 'scones data stage'") from exc
    entries = parse_lst(lst_text, origin=store.uri_for(lst_key), num_classes=len(classes))
    if expected >= 0 and expected != len(entries):
        raise DataError(f"The dataset at {store.uri} is half-staged: dataset.json says {name} has {expected} "
                        f"images, {lst_key} lists {len(entries)}", hint="stage the dataset again")
    images = []
    shape: tuple[int, ...] | None = None
    for label, file in progress(entries, enabled=show_progress, desc=f"reading {name}", unit="img"):
        key = f"{name}/{file}"
        try:
            data = store.get_bytes(key)
        except NotFoundError as exc:
            raise DataError(f"The dataset at {store.uri} is half-staged: {key} is listed in {lst_key} but missing",
                            hint="stage the dataset again with 'scones data stage'") from exc
        except StoreError as exc:
            raise DataError(f"Cannot read {store.uri_for(key)}: {exc.message}") from exc
        img = decode_png(data, origin=store.uri_for(key))
        if shape is None:
            shape = img.shape
        elif img.shape != shape:
            raise DataError(f"{store.uri_for(key)} is {img.shape[1]}x{img.shape[0]}, the other images are "
                            f"{shape[1]}x{shape[0]}", hint="stage images of one size")
        images.append(img)
    labels = np.array([label for label, _ in entries], dtype=np.int64)
    return Split(name, np.stack(images), labels, [file for _, file in entries])


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
    info = read_dataset_info(store)
    splits = {name: load_split(store, name, info.classes, expected=info.counts[name], show_progress=show_progress)
              for name in SPLITS}
    present = sorted(set(splits["train"].labels.tolist()))
    if len(present) < 2:
        raise DataError(f"The training split at {store.uri} holds only one class "
                        f"({info.classes[present[0]]}); a classifier needs at least two",
                        hint="stage at least two classes")
    LOG.info("dataset %s: %d classes, %d train, %d test images", store.uri, len(info.classes),
             len(splits["train"]), len(splits["test"]))
    return Dataset(classes=info.classes, train=splits["train"], test=splits["test"], uri=store.uri)
