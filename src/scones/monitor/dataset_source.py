"""Reading labelled images of a staged dataset, for the baseline.

The staged layout (the data issue's contract): ``train/<file>.png``, ``test/<file>.png``
and ``train.lst`` / ``test.lst`` with ``row<TAB>label<TAB>filename`` lines, plus an
optional ``dataset.json`` naming the classes. This small module is the only place
the monitor touches that layout, so it can switch to ``scones.data.dataset`` in one spot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from scones.errors import NotFoundError, StoreError
from scones.monitor.errors import MonitorError
from scones.store import Store

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledImage:
    name: str
    label: int
    data: bytes


def read_manifest(store: Store, split: str) -> dict[str, int]:
    """``{filename: label}`` from ``<split>.lst``."""
    key = f"{split}.lst"
    try:
        text = store.get_text(key)
    except NotFoundError as exc:
        raise MonitorError(f"No {key} in the dataset at {store.uri}",
                           hint="stage the data with 'scones data stage' and pass its location as --data") from exc
    labels: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            labels[parts[2].strip()] = int(parts[1])
        except (IndexError, ValueError) as exc:
            raise MonitorError(f"{store.uri_for(key)} line {number} is not 'row<TAB>label<TAB>file': {line!r}",
                               hint="re-stage the dataset with 'scones data stage'") from exc
    return labels


def dataset_classes(store: Store) -> list[str] | None:
    """Class names from ``dataset.json`` when the dataset has one."""
    if not store.exists("dataset.json"):
        return None
    try:
        classes = json.loads(store.get_text("dataset.json")).get("classes")
    except (json.JSONDecodeError, AttributeError, StoreError) as exc:
        raise MonitorError(f"{store.uri_for('dataset.json')} is not valid JSON: {exc}") from exc
    return [str(c) for c in classes] if isinstance(classes, list) else None


def iter_images(store: Store, split: str, names: Sequence[str] | None = None) -> Iterator[LabelledImage]:
    """The split's images (all of them, or ``names`` in that order) with their labels."""
    labels = read_manifest(store, split)
    wanted = list(labels) if names is None else list(names)
    missing = [n for n in wanted if n not in labels]
    if missing:
        raise MonitorError(f"{len(missing)} validation file(s) are not in {split}.lst, e.g. {missing[0]!r}",
                           hint="the model was trained on another dataset; pass the dataset it was trained on")
    for name in wanted:
        try:
            data = store.get_bytes(f"{split}/{name}")
        except NotFoundError as exc:
            raise MonitorError(f"Image {split}/{name} listed in {split}.lst is missing from {store.uri}") from exc
        yield LabelledImage(name, labels[name], data)
