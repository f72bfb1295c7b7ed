"""The labelled images a baseline is measured on, as the endpoint would receive them.

Reading and checking the staged layout (or the plain SageMaker one the classic workflow
exported) is ``scones.data.dataset``'s job; this module only picks the model's
validation files out of a split and hands over their stored bytes, undecoded, so the
baseline sees the same content type a client would send.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from scones.data.dataset import load_dataset_info, read_image_bytes
from scones.monitor.errors import MonitorError
from scones.store import Store


@dataclass(frozen=True)
class LabelledImage:
    name: str
    label: int
    data: bytes


def dataset_classes(store: Store) -> list[str] | None:
    """The staged dataset's class names; None for a folder in plain SageMaker layout, which names none."""
    info = load_dataset_info(store, check_images=False, plain_layout=True)
    return None if info.plain else list(info.classes)


def iter_images(store: Store, split: str, names: Sequence[str] | None = None) -> Iterator[LabelledImage]:
    """The split's images (all of them, or ``names`` in that order) with their labels."""
    info = load_dataset_info(store, check_images=False, splits=(split,), plain_layout=True)
    labels = {entry.filename: entry.label for entry in info.entries(split)}
    wanted = list(labels) if names is None else list(names)
    missing = [n for n in wanted if n not in labels]
    if missing:
        raise MonitorError(f"{len(missing)} validation file(s) are not in {split}.lst, e.g. {missing[0]!r}",
                           hint="the model was trained on another dataset; pass the dataset it was trained on")
    for name in wanted:
        yield LabelledImage(name, labels[name], read_image_bytes(store, split, name))
