"""The staged dataset: the one place that builds and reads its layout.

``scones data stage`` writes, and training and monitoring read, this layout
under a store prefix (SageMaker's image-classification "lst" format; docs/aws-facts.md,
SageMaker training)::

    train/<filename>.png   test/<filename>.png     RGB PNG, one per CIFAR row
    train.lst              test.lst                row<TAB>label<TAB>filename
    dataset.json           classes, counts per split and class, source, created

``row`` is the image's index in its source split, ``label`` is 0..k-1 in the
order of ``classes``, and ``filename`` is bare, relative to the split folder.
``dataset.json`` is written together with everything else (``Store.publish``);
a prefix without it, or whose manifests disagree with it, is not a dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from scones.errors import DataError, NotFoundError
from scones.progress import progress
from scones.store import Store

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

FORMAT_VERSION: Final = 1
DATASET_JSON: Final = "dataset.json"
SPLITS: Final = ("train", "test")
IMAGE_SUFFIX: Final = ".png"
SOURCE_KINDS: Final = ("url", "archive", "folder")


class ManifestEntry(NamedTuple):
    """One ``.lst`` line: the image's row in its source split, its label index and its file name."""

    row: int
    label: int
    filename: str


def manifest_key(split: str) -> str:
    return f"{split}.lst"


def image_key(split: str, filename: str) -> str:
    return f"{split}/{filename}"


def check_filename(filename: str, where: str) -> str:
    """A bare ``*.png`` name that stays inside its split folder, or a DataError saying which one is not."""
    if (not filename or "/" in filename or "\\" in filename or "\x00" in filename
            or filename in (".", "..") or filename.startswith(".")
            or not filename.lower().endswith(IMAGE_SUFFIX) or filename != filename.strip()
            or any(ord(c) < 32 for c in filename)):
        raise DataError(f"{where}: {filename!r} is not a plain image file name",
                        hint="file names must be bare '*.png' names without folders, control characters "
                             "or a leading '.'")
    return filename


def format_lst(entries: Iterable[ManifestEntry]) -> str:
    return "".join(f"{e.row}\t{e.label}\t{e.filename}\n" for e in entries)


def parse_lst(text: str, *, where: str, num_classes: int | None = None) -> list[ManifestEntry]:
    """Read a ``.lst`` manifest strictly: three tab-separated fields, integer row and label."""
    entries: list[ManifestEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise DataError(f"{where} line {number}: expected 'row<TAB>label<TAB>filename', got {line!r}")
        try:
            row, label = int(fields[0]), int(fields[1])
        except ValueError as exc:
            raise DataError(f"{where} line {number}: row and label must be integers, got {line!r}") from exc
        if row < 0:
            raise DataError(f"{where} line {number}: row {row} is negative")
        if label < 0 or (num_classes is not None and label >= num_classes):
            raise DataError(f"{where} line {number}: label {label} is not in 0..{(num_classes or 1) - 1}")
        entries.append(ManifestEntry(row, label, check_filename(fields[2], f"{where} line {number}")))
    duplicates = [name for name, n in Counter(e.filename for e in entries).items() if n > 1]
    if duplicates:
        raise DataError(f"{where}: file names appear more than once: {', '.join(sorted(duplicates)[:5])}")
    return entries


def per_class_counts(entries: Iterable[ManifestEntry], classes: Sequence[str]) -> dict[str, int]:
    counts = Counter(e.label for e in entries)
    return {name: counts.get(index, 0) for index, name in enumerate(classes)}


def utc_timestamp(when: datetime | None = None) -> str:
    """ISO-8601 UTC, whole seconds, ``Z`` suffix."""
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_dataset_json(classes: Sequence[str], splits: Mapping[str, Sequence[ManifestEntry]], *,
                       source_uri: str, source_kind: str, source_md5: str,
                       created: datetime | None = None) -> dict[str, Any]:
    """The ``dataset.json`` document; staging writes exactly this."""
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source kind {source_kind!r} is not one of {SOURCE_KINDS}")
    return {
        "format_version": FORMAT_VERSION,
        "classes": list(classes),
        "splits": {split: {"count": len(entries), "per_class": per_class_counts(entries, classes)}
                   for split, entries in splits.items()},
        "source": {"uri": source_uri, "kind": source_kind, "md5": source_md5},
        "created": utc_timestamp(created),
    }


@dataclass(frozen=True)
class DatasetInfo:
    """A staged dataset, read and checked: its classes and, per split, its manifest entries."""

    uri: str
    classes: tuple[str, ...]
    splits: Mapping[str, tuple[ManifestEntry, ...]]
    source: Mapping[str, str]
    created: str
    plain: bool = False  # read without dataset.json (``plain_layout``): the class names are label numbers

    def entries(self, split: str) -> tuple[ManifestEntry, ...]:
        try:
            return self.splits[split]
        except KeyError as exc:
            raise DataError(f"The dataset at {self.uri} has no split {split!r}",
                            hint=f"use one of: {', '.join(self.splits)}") from exc

    def image_key(self, split: str, entry: ManifestEntry) -> str:
        """The key of an entry's image, relative to the dataset's store."""
        return image_key(split, entry.filename)

    def per_class(self, split: str) -> dict[str, int]:
        return per_class_counts(self.entries(split), self.classes)

    def label_name(self, label: int) -> str:
        return self.classes[label]


def _read_json(store: Store) -> dict[str, Any]:
    try:
        text = store.get_text(DATASET_JSON)
    except NotFoundError as exc:
        leftovers = [k for k in (manifest_key(s) for s in SPLITS) if store.exists(k)]
        if leftovers:
            raise DataError(f"{store.uri} is half-staged: its manifests exist but dataset.json does not",
                            hint=f"stage it again: scones data stage --dest {store.uri}") from exc
        raise DataError(f"{store.uri} holds no dataset (no {DATASET_JSON})",
                        hint=f"point at a staged dataset, or stage one there: scones data stage --dest {store.uri}"
                        ) from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{store.uri_for(DATASET_JSON)} is not valid JSON: {exc}",
                        hint=f"stage it again: scones data stage --dest {store.uri}") from exc
    if not isinstance(doc, dict):
        raise DataError(f"{store.uri_for(DATASET_JSON)} is not a JSON object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(f"{store.uri_for(DATASET_JSON)} has format_version {version!r}; this scones reads "
                        f"version {FORMAT_VERSION}", hint=f"stage it again: scones data stage --dest {store.uri}")
    return doc


def _read_manifest(store: Store, split: str, num_classes: int | None,
                   check_images: bool) -> tuple[ManifestEntry, ...]:
    key = manifest_key(split)
    try:
        text = store.get_text(key)
    except NotFoundError as exc:
        raise DataError(f"{store.uri} is half-staged: {key} is missing",
                        hint=f"stage it again: scones data stage --dest {store.uri}") from exc
    entries = tuple(parse_lst(text, where=store.uri_for(key), num_classes=num_classes))
    if check_images:
        present = set(store.list(f"{split}/"))
        missing = [e.filename for e in entries if image_key(split, e.filename) not in present]
        if missing:
            raise DataError(f"{store.uri} is half-staged: {len(missing)} images of {key} are missing "
                            f"(first: {split}/{missing[0]})",
                            hint=f"stage it again: scones data stage --dest {store.uri}")
    return entries


def load_dataset_info(store: Store, *, check_images: bool = True, splits: Sequence[str] = SPLITS,
                      plain_layout: bool = False) -> DatasetInfo:
    """Read and cross-check a staged dataset; a missing or half-staged one is a DataError.

    With ``check_images`` (one listing per split) every image a manifest names must exist.
    ``splits`` limits the reading to some splits: a SageMaker channel holds ``dataset.json``
    and one split only, and is checked on its own before the channels are joined.
    ``plain_layout`` also accepts manifests and images without ``dataset.json`` (how the
    classic SageMaker workflow exported CIFAR): nothing names the labels there, so the
    classes are ``"0"``, ``"1"``… and ``plain`` is set.
    """
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise ValueError(f"splits must be some of {SPLITS}, got {tuple(splits)}")
    if (plain_layout and not store.exists(DATASET_JSON)
            and all(store.exists(manifest_key(split)) for split in splits)):
        read = {split: _read_manifest(store, split, None, check_images) for split in splits}
        labels = max((e.label for entries in read.values() for e in entries), default=0)
        return DatasetInfo(uri=store.uri, classes=tuple(str(i) for i in range(labels + 1)), splits=read,
                           source={}, created="", plain=True)
    doc = _read_json(store)
    where = store.uri_for(DATASET_JSON)
    classes = doc.get("classes")
    if (not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes)
            or len(set(classes)) != len(classes)):
        raise DataError(f"{where}: 'classes' must be a non-empty list of distinct names, got {classes!r}")
    declared = doc.get("splits")
    if not isinstance(declared, dict) or set(declared) != set(SPLITS):
        raise DataError(f"{where}: 'splits' must describe exactly {', '.join(SPLITS)}")
    source = doc.get("source")
    if not isinstance(source, dict):
        source = {}
    read = {}
    for split in splits:
        entries = _read_manifest(store, split, len(classes), check_images)
        info = declared[split] if isinstance(declared[split], dict) else {}
        expected, counted = info.get("count"), per_class_counts(entries, classes)
        if expected != len(entries):
            raise DataError(f"{store.uri} is half-staged: {manifest_key(split)} has {len(entries)} images but "
                            f"dataset.json says {expected!r}",
                            hint=f"stage it again: scones data stage --dest {store.uri}")
        if info.get("per_class") != counted:
            raise DataError(f"{store.uri} is half-staged: {manifest_key(split)} has {counted} images per class but "
                            f"dataset.json says {info.get('per_class')!r}",
                            hint=f"stage it again: scones data stage --dest {store.uri}")
        read[split] = entries
    LOG.debug("dataset at %s: %s", store.uri, {s: len(e) for s, e in read.items()})
    return DatasetInfo(uri=store.uri, classes=tuple(classes), splits=read,
                       source={str(k): str(v) for k, v in source.items()}, created=str(doc.get("created", "")))


def describe(info: DatasetInfo) -> str:
    """A few lines for people: where, classes, counts per split and class, source."""
    lines = [f"Dataset at {info.uri} (created {info.created or 'unknown'})",
             f"  classes: {', '.join(f'{i}={c}' for i, c in enumerate(info.classes))}"]
    for split in info.splits:
        counts = ", ".join(f"{c} {n}" for c, n in info.per_class(split).items())
        lines.append(f"  {split}: {len(info.entries(split))} images ({counts})")
    if info.source:
        lines.append(f"  source: {info.source.get('uri', '?')} ({info.source.get('kind', '?')}, "
                     f"md5 {info.source.get('md5', '?')})")
    return "\n".join(lines)


def read_image_bytes(store: Store, split: str, filename: str) -> bytes:
    """One staged image's file as stored (read from the file directly when the store is local)."""
    key = image_key(split, filename)
    local = store.local_path(key)
    try:
        return local.read_bytes() if local is not None else store.get_bytes(key)
    except (FileNotFoundError, NotFoundError) as exc:
        raise DataError(f"{store.uri} is half-staged: {key} is missing (it is listed in {manifest_key(split)})",
                        hint=f"stage it again: scones data stage --dest {store.uri}") from exc


def decode_image(data: bytes, *, where: str) -> np.ndarray:
    """PNG bytes as H×W×3 uint8 RGB (grey, palette and alpha images are converted)."""
    import numpy as np

    from scones.data.png import open_png, rgb_image

    try:
        with open_png(data) as image:
            return np.asarray(rgb_image(image), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{where} is not a readable PNG: {exc}",
                        hint="replace or remove the file (and its .lst line), or stage the dataset again") from exc


def read_image(store: Store, split: str, filename: str) -> np.ndarray:
    """One staged image as H×W×3 uint8."""
    return decode_image(read_image_bytes(store, split, filename), where=store.uri_for(image_key(split, filename)))


def load_split(store: Store, info: DatasetInfo, split: str, *, workers: int = 2,
               show_progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """All images of a split as N×H×W×3 uint8 and their labels as N int64, in manifest order.

    Images must share one size (CIFAR's are 32×32); decoding runs on a small thread pool.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    entries = info.entries(split)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="scones-load") as pool:
        decoded = pool.map(lambda e: read_image(store, split, e.filename), entries)
        images = list(progress(decoded, enabled=show_progress, total=len(entries), desc=f"reading {split}",
                               unit="img"))
    for entry, image in zip(entries, images, strict=True):
        if image.shape != images[0].shape:
            (h, w), (h0, w0) = image.shape[:2], images[0].shape[:2]
            raise DataError(f"{store.uri_for(image_key(split, entry.filename))} is {w}x{h}, the images before it "
                            f"in {manifest_key(split)} are {w0}x{h0}", hint="stage images of one size")
    pixels = np.stack(images) if images else np.zeros((0, 32, 32, 3), dtype=np.uint8)
    return pixels, np.asarray([e.label for e in entries], dtype=np.int64)


def check_trainable(store: Store, info: DatasetInfo) -> None:
    """A classifier needs two classes, training images of at least two of them, and test images to score.

    Staging accepts a single class (it is still a valid dataset to look at), so this is
    checked by whoever trains, before any image is decoded.
    """
    if len(info.classes) < 2:
        raise DataError(f"The dataset at {store.uri} has {len(info.classes)} class ({', '.join(info.classes)}); "
                        "a classifier needs at least two", hint="stage at least two classes")
    for split in info.splits:
        if not info.entries(split):
            raise DataError(f"{store.uri_for(manifest_key(split))} lists no images",
                            hint=f"stage it again: scones data stage --dest {store.uri}")
    present = [name for name, count in info.per_class("train").items() if count]
    if len(present) < 2:
        raise DataError(f"{store.uri_for(manifest_key('train'))} lists images of only one class ({present[0]}); "
                        "a classifier needs at least two", hint="stage images of at least two classes")


def dataset_fingerprint(store: Store) -> str:
    """A SHA-256 over what defines a staged dataset's content: its classes, source checksum and manifests.

    The creation time is left out on purpose, so re-staging the same source gives the same
    fingerprint and a model trained on it can be reused.
    """
    info = _read_json(store)
    digest = hashlib.sha256()
    digest.update(json.dumps({"classes": info.get("classes"), "source_md5": (info.get("source") or {}).get("md5")},
                             sort_keys=True).encode())
    for split in SPLITS:
        digest.update(b"\0" + store.get_bytes(manifest_key(split)))
    return digest.hexdigest()
