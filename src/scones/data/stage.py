"""Stage CIFAR-100 classes into a store as PNG files, SageMaker ``.lst`` manifests and ``dataset.json``.

Everything is read and validated before anything is written, and the output
appears all at once through ``Store.publish``: a failure leaves the
destination as it was. Staging the same source and classes again is a no-op
(unless forced). Rows are selected with numpy in one go; PNG encoding and
writing run on a thread pool (zlib compression and file writes release the GIL).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import unquote, urlparse

from scones.data.cifar import LOCAL_SOURCE_HINT, download, expected_md5_for, read_archive, resolve_classes
from scones.data.dataset import (
    DATASET_JSON,
    SPLITS,
    DatasetInfo,
    ManifestEntry,
    build_dataset_json,
    check_filename,
    format_lst,
    image_key,
    load_dataset_info,
    manifest_key,
    parse_lst,
    per_class_counts,
)
from scones.data.png import encode_rgb_png
from scones.errors import DataError, NotFoundError, UsageError
from scones.progress import progress
from scones.store import Store, open_store

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

DEFAULT_CLASSES: Final = ("bicycle", "motorcycle")
#: Images per task on the pool: big enough to amortise scheduling, small enough to balance two cores.
CHUNK: Final = 64

SourceKind = Literal["url", "archive", "folder"]


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    uri: str


@dataclass(frozen=True)
class SplitImages:
    """One split ready to write: manifest entries and, for archives, their H×W×3 pixels."""

    entries: list[ManifestEntry]
    pixels: np.ndarray | None = None
    #: For folder sources: the bytes of each entry's source image, decoded while writing.
    raw: list[bytes] | None = None


@dataclass(frozen=True)
class StageResult:
    uri: str
    classes: tuple[str, ...]
    per_class: dict[str, dict[str, int]]
    source: Source
    source_md5: str
    seconds: float
    skipped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def images(self) -> int:
        return sum(sum(c.values()) for c in self.per_class.values())


def parse_classes(text: str | Sequence[str] | None) -> list[str]:
    """``"bicycle, motorcycle"`` -> ``["bicycle", "motorcycle"]``; None gives the default pair."""
    if text is None:
        return list(DEFAULT_CLASSES)
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip() for n in items if n.strip()]
    if not names:
        raise DataError("No classes were given", hint="name at least one, e.g. --classes bicycle,motorcycle")
    return names


def resolve_source(source: str | os.PathLike[str]) -> Source:
    """What a SOURCE names: an ``http(s)`` URL, a local ``.tar.gz``, or a folder in SageMaker layout."""
    text = os.fspath(source).strip()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https"):
        return Source("url", text)
    if parsed.scheme == "s3":
        return Source("folder", text)
    if parsed.scheme == "file":
        text = unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:
        raise DataError(f"Cannot read a CIFAR-100 source from {text!r}",
                        hint="give an http(s) URL, a local .tar.gz, a folder in SageMaker layout or an s3:// folder")
    path = Path(text).expanduser()
    if path.is_dir():
        return Source("folder", str(path.absolute()))
    if path.is_file():
        return Source("archive", str(path.absolute()))
    raise DataError(f"No CIFAR-100 source at {text!r} (no such file or folder)", hint=LOCAL_SOURCE_HINT)


# -- reading sources ---------------------------------------------------------------------------


def _archive_splits(path: Path, classes: Sequence[str], expected_md5: str | None
                    ) -> tuple[list[str], dict[str, SplitImages], str]:
    import numpy as np

    archive = read_archive(path, expected_md5=expected_md5)
    fine = resolve_classes(classes, archive)
    names = [archive.meta.fine_names[i] for i in fine]
    lut = np.full(len(archive.meta.fine_names), -1, dtype=np.int64)
    lut[fine] = np.arange(len(fine))
    splits: dict[str, SplitImages] = {}
    for split_name, split in archive.splits.items():
        new_labels = lut[split.fine_labels]
        rows = np.flatnonzero(new_labels >= 0)
        entries = [ManifestEntry(int(r), int(label),
                                 check_filename(split.filenames[r], f"{path}: {split_name} row {r}"))
                   for r, label in zip(rows.tolist(), new_labels[rows].tolist(), strict=True)]
        # Channel-planar rows (R plane, G plane, B plane) -> N×32×32×3, in one vectorised copy.
        pixels = np.ascontiguousarray(split.data[rows].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        splits[split_name] = SplitImages(entries, pixels=pixels)
    _check_unique(splits, str(path))
    return names, splits, archive.md5


def _check_unique(splits: dict[str, SplitImages], where: str) -> None:
    for name, split in splits.items():
        seen: set[str] = set()
        for entry in split.entries:
            if entry.filename in seen:
                raise DataError(f"{where}: {name} has two selected images named {entry.filename!r}",
                                hint="each image must have its own file name within a split")
            seen.add(entry.filename)


def _folder_splits(source: Source, classes: Sequence[str], workers: int
                   ) -> tuple[list[str], dict[str, SplitImages], str]:
    """A folder in SageMaker layout (``train/ test/ train.lst test.lst``), optionally with our dataset.json."""
    store = open_store(source.uri)
    digest = hashlib.md5(usedforsecurity=False)
    manifests: dict[str, list[ManifestEntry]] = {}
    for split in SPLITS:
        try:
            raw = store.get_bytes(manifest_key(split))
        except NotFoundError as exc:  # other store errors (credentials, permissions) say what they are
            raise DataError(f"{source.uri} is not a folder in SageMaker layout: {manifest_key(split)} is missing",
                            hint="it needs train/, test/, train.lst and test.lst") from exc
        digest.update(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{store.uri_for(manifest_key(split))} is not UTF-8 text") from exc
        manifests[split] = parse_lst(text, where=store.uri_for(manifest_key(split)))
    names = list(classes)
    if store.exists(DATASET_JSON):  # a dataset staged by scones: its class names are known
        try:
            source_classes = json.loads(store.get_text(DATASET_JSON))["classes"]
            assert isinstance(source_classes, list) and all(isinstance(c, str) for c in source_classes)
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            raise DataError(f"{store.uri_for(DATASET_JSON)} does not list its classes") from exc
        names, manifests = _select_named(manifests, source_classes, classes, source.uri)
    num = len(names)
    for split, entries in manifests.items():
        bad = [e for e in entries if e.label >= num]
        if bad:
            raise DataError(f"{store.uri_for(manifest_key(split))} uses label {bad[0].label}, but only {num} class "
                            f"names were given ({', '.join(names)})",
                            hint="pass --classes with one name per label, in label order")
    present = {split: set(store.list(f"{split}/")) for split in SPLITS}
    for split, entries in manifests.items():
        for entry in entries:
            if image_key(split, entry.filename) not in present[split]:
                raise DataError(f"{source.uri}: {manifest_key(split)} names {image_key(split, entry.filename)}, "
                                "which does not exist", hint="fix the manifest or add the image")
    splits: dict[str, SplitImages] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scones-read") as pool:
        for split, entries in manifests.items():
            keys = [image_key(split, e.filename) for e in entries]
            images = list(pool.map(store.get_bytes, keys))
            for data in images:
                digest.update(data)
            splits[split] = SplitImages(entries, raw=images)
    _check_unique(splits, source.uri)
    # The checksum covers both manifests, then every image's bytes in manifest order.
    return names, splits, digest.hexdigest()


def _select_named(manifests: dict[str, list[ManifestEntry]], source_classes: list[str],
                  requested: Sequence[str], where: str) -> tuple[list[str], dict[str, list[ManifestEntry]]]:
    import difflib

    index = {name: i for i, name in enumerate(source_classes)}
    for name in requested:
        if name not in index:
            close = difflib.get_close_matches(name, source_classes, n=5, cutoff=0.6)
            raise DataError(f"Class {name!r} is not in the dataset at {where}",
                            hint=f"closest: {', '.join(close)}" if close else
                            f"it has: {', '.join(source_classes)}")
    wanted = list(dict.fromkeys(requested))
    remap = {index[name]: new for new, name in enumerate(wanted)}
    selected = {split: [ManifestEntry(e.row, remap[e.label], e.filename) for e in entries if e.label in remap]
                for split, entries in manifests.items()}
    return wanted, selected


# -- writing -----------------------------------------------------------------------------------


def encode_png(pixels: np.ndarray) -> bytes:
    """An RGB PNG of an H×W×3 uint8 array (deterministic: no timestamps or text chunks)."""
    return encode_rgb_png(pixels)


def decode_to_rgb(data: bytes, where: str) -> np.ndarray:
    """Pixels of a PNG as H×W×3 uint8; RGBA is admitted only when fully opaque (nothing is lost)."""
    import numpy as np

    from scones.data.png import open_png

    try:
        with open_png(data) as image:
            image.load()
            if image.mode == "RGB":
                return np.asarray(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = np.asarray(image.convert("RGBA"))
                if not (rgba[..., 3] == 255).all():
                    raise DataError(f"{where} has transparent pixels; staged images are RGB",
                                    hint="flatten the image onto a background first")
                return np.ascontiguousarray(rgba[..., :3])
            if image.mode in ("L", "P", "1"):
                return np.asarray(image.convert("RGB"))
            raise DataError(f"{where} is a {image.mode} image; staged images are 8-bit RGB")
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{where} is not a readable PNG image: {exc}") from exc


def _write_split(staging: Store, split: str, images: SplitImages, pool: ThreadPoolExecutor, bar: Any) -> None:
    entries = images.entries

    def work(start: int) -> int:
        stop = min(start + CHUNK, len(entries))
        for i in range(start, stop):
            entry = entries[i]
            if images.pixels is not None:
                pixels = images.pixels[i]
            else:
                assert images.raw is not None
                pixels = decode_to_rgb(images.raw[i], f"{split}/{entry.filename}")
            staging.put_bytes(image_key(split, entry.filename), encode_png(pixels))
        return stop - start

    futures = [pool.submit(work, start) for start in range(0, len(entries), CHUNK)]
    try:
        for future in futures:
            bar.update(future.result())
    except BaseException:
        # Stop queued work and let running work finish before the staging area is discarded,
        # so that no late write recreates it.
        for future in futures:
            future.cancel()
        wait(futures)
        raise
    staging.put_text(manifest_key(split), format_lst(entries))


def _already_staged(dest: Store, classes: Sequence[str], md5: str, counts: dict[str, dict[str, int]]) -> bool:
    if not dest.exists(DATASET_JSON):
        return False
    try:
        info: DatasetInfo = load_dataset_info(dest)
    except DataError:
        return False
    return (list(info.classes) == list(classes) and info.source.get("md5") == md5
            and {s: info.per_class(s) for s in SPLITS} == counts)


def _guard_destination(dest: Store) -> None:
    """Refuse to replace a prefix that holds something other than a staged dataset."""
    if dest.exists(DATASET_JSON):
        return
    others = dest.list()
    if others:
        raise DataError(f"{dest.uri} already holds {len(others)} files that are not a staged dataset "
                        f"(e.g. {others[0]}); staging would replace them",
                        hint="choose an empty --dest, or remove those files first")


def stage_dataset(source: str | os.PathLike[str], dest: str | Store, *,
                  classes: Sequence[str] = DEFAULT_CLASSES, cache_dir: Path, expected_md5: str | None = None,
                  force: bool = False, show_progress: bool = True, workers: int | None = None) -> StageResult:
    """Stage ``classes`` from ``source`` into ``dest``; see the module docstring for the guarantees."""
    started = time.perf_counter()
    if expected_md5 is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", expected_md5.strip()):
        raise UsageError(f"--md5 {expected_md5!r} is not an MD5 checksum (32 hexadecimal digits)")
    src = resolve_source(source)
    dest_store = dest if isinstance(dest, Store) else open_store(dest)
    wanted = parse_classes(classes)
    workers = workers or max(1, min(8, os.cpu_count() or 1))
    if src.kind == "folder":
        if expected_md5:
            raise UsageError("--md5 checks an archive; the source is a folder",
                             hint="leave out --md5, or pass the .tar.gz archive as --source")
        if open_store(src.uri).uri == dest_store.uri:
            raise DataError(f"The source folder and the destination are the same ({dest_store.uri})",
                            hint="stage into another --dest")
        names, splits, md5 = _folder_splits(src, wanted, workers)
    else:
        if src.kind == "url":
            expected_md5 = expected_md5 or expected_md5_for(src.uri)
            path = download(src.uri, cache_dir, md5=expected_md5, show_progress=show_progress)
        else:
            path = Path(src.uri)
        names, splits, md5 = _archive_splits(path, wanted, expected_md5)

    counts = {split: per_class_counts(images.entries, names) for split, images in splits.items()}
    empty = [n for n in names if not any(c[n] for c in counts.values())]
    if empty:
        raise DataError(f"No images of {', '.join(map(repr, empty))} in {src.uri}",
                        hint="check the class names and the source")
    if not force and _already_staged(dest_store, names, md5, counts):
        return StageResult(dest_store.uri, tuple(names), counts, src, md5, time.perf_counter() - started,
                           skipped=True, notes=["already staged from the same source; use --force to stage again"])
    _guard_destination(dest_store)

    total = sum(len(s.entries) for s in splits.values())
    with progress(total=total, unit="img", desc="stage", enabled=show_progress) as bar, \
            dest_store.publish() as staging, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scones-stage") as pool:
        for split in SPLITS:
            _write_split(staging, split, splits[split], pool, bar)
        # Written last, so even a reader of the staging area never sees it before the data.
        doc = build_dataset_json(names, {s: splits[s].entries for s in SPLITS}, source_uri=src.uri,
                                 source_kind=src.kind, source_md5=md5)
        staging.put_text(DATASET_JSON, json.dumps(doc, indent=2) + "\n")
    LOG.info("staged %d images into %s", total, dest_store.uri)
    return StageResult(dest_store.uri, tuple(names), counts, src, md5, time.perf_counter() - started)


def format_summary(result: StageResult) -> str:
    """A short table for people: where, what, how many, from where."""
    action = "Already staged" if result.skipped else "Staged"
    lines = [f"{action} {result.images} images of {len(result.classes)} classes into {result.uri} "
             f"({result.seconds:.2f} s)"]
    width = max(len("split"), *(len(c) for c in result.classes))
    header = "  " + "split".ljust(7) + "".join(c.rjust(width + 2) for c in result.classes) + "total".rjust(8)
    lines.append(header)
    for split, per_class in result.per_class.items():
        lines.append("  " + split.ljust(7) + "".join(str(per_class[c]).rjust(width + 2) for c in result.classes)
                     + str(sum(per_class.values())).rjust(8))
    lines.append(f"  source: {result.source.uri} ({result.source.kind}, md5 {result.source_md5})")
    lines.extend(f"  note: {n}" for n in result.notes)
    return "\n".join(lines)
