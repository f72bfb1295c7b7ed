"""Staging into a store: output contract, all-or-nothing, idempotence, folder and URL sources, S3, real data."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from archive_server import ArchiveServer
from cifar_factory import (
    FakeCifar,
    ReduceTo,
    archive_members,
    make_cifar,
    pickle_py3,
    tar_member,
    write_archive,
    write_tar_gz,
)
from PIL import Image

from scones.data import stage as stage_module
from scones.data.dataset import DATASET_JSON, load_dataset_info, load_split, parse_lst
from scones.data.stage import format_summary, parse_classes, resolve_source, stage_dataset
from scones.errors import DataError
from scones.store import LocalStore, S3Store, Store


def _stage(source: Any, dest: Any, tmp_path: Path, **kwargs: Any) -> stage_module.StageResult:
    return stage_dataset(source, dest, cache_dir=tmp_path / "cache", show_progress=False, **kwargs)


def _pixels(data: bytes) -> tuple[str, np.ndarray]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, np.asarray(image)


def _assert_matches_cifar(store: Store, cifar: FakeCifar, classes: list[str]) -> None:
    """Every staged image is the CIFAR row it names, with the label of its class; manifests in row order."""
    fine_names = cifar.meta["fine_label_names"]
    for split in ("train", "test"):
        entries = parse_lst(store.get_text(f"{split}.lst"), where=split)
        expected_rows = sorted(r for c in classes for r in cifar.rows_of(split, c))
        assert [e.row for e in entries] == expected_rows
        raw = cifar.split(split)
        for entry in entries:
            assert entry.filename == raw["filenames"][entry.row]
            assert classes[entry.label] == fine_names[raw["fine_labels"][entry.row]]
            mode, pixels = _pixels(store.get_bytes(f"{split}/{entry.filename}"))
            assert mode == "RGB"
            assert np.array_equal(pixels, cifar.pixels(split, entry.row))
        assert sorted(store.list(f"{split}/")) == sorted(f"{split}/{e.filename}" for e in entries)


@pytest.fixture
def cifar() -> FakeCifar:
    return make_cifar()


@pytest.fixture
def archive(tmp_path: Path, cifar: FakeCifar) -> Path:
    return write_archive(tmp_path / "src" / "cifar-100-python.tar.gz", cifar)


# -- the output contract -----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["py2", "py3"])
def test_stage_archive(tmp_path: Path, cifar: FakeCifar, style: str) -> None:
    archive = write_archive(tmp_path / "c.tar.gz", cifar, style=style)
    dest = tmp_path / "store" / "bucket" / "dataset"
    result = _stage(archive, dest, tmp_path)
    store = LocalStore(dest)
    _assert_matches_cifar(store, cifar, ["bicycle", "motorcycle"])
    doc = json.loads(store.get_text(DATASET_JSON))
    assert doc["format_version"] == 1 and doc["classes"] == ["bicycle", "motorcycle"]
    assert doc["splits"] == {"train": {"count": 6, "per_class": {"bicycle": 3, "motorcycle": 3}},
                             "test": {"count": 4, "per_class": {"bicycle": 2, "motorcycle": 2}}}
    assert doc["source"] == {"uri": str(archive), "kind": "archive",
                             "md5": hashlib.md5(archive.read_bytes()).hexdigest()}
    assert doc["created"].endswith("Z")
    assert sorted(os.listdir(dest)) == ["dataset.json", "test", "test.lst", "train", "train.lst"]
    info = load_dataset_info(store)
    assert info.classes == ("bicycle", "motorcycle")
    assert (result.images, result.skipped, result.uri) == (10, False, store.uri)


def test_labels_follow_the_order_given(tmp_path: Path, cifar: FakeCifar, archive: Path) -> None:
    _stage(archive, tmp_path / "ds", tmp_path, classes=["motorcycle", "bicycle"])
    _assert_matches_cifar(LocalStore(tmp_path / "ds"), cifar, ["motorcycle", "bicycle"])


def test_coarse_name_stages_all_its_fine_classes(tmp_path: Path, cifar: FakeCifar, archive: Path) -> None:
    result = _stage(archive, tmp_path / "ds", tmp_path, classes=["vehicles_1"])
    assert result.classes == ("bicycle", "bus", "motorcycle", "pickup_truck")
    _assert_matches_cifar(LocalStore(tmp_path / "ds"), cifar, list(result.classes))


def test_parse_classes() -> None:
    assert parse_classes(None) == ["bicycle", "motorcycle"]
    assert parse_classes(" bus, apple ,") == ["bus", "apple"]
    with pytest.raises(DataError, match="No classes"):
        parse_classes(" , ")


def test_summary_names_counts_and_source(tmp_path: Path, archive: Path) -> None:
    text = format_summary(_stage(archive, tmp_path / "ds", tmp_path))
    assert text.splitlines()[0].startswith(f"Staged 10 images of 2 classes into {LocalStore(tmp_path / 'ds').uri}")
    assert [line.split() for line in text.splitlines()[1:4]] == [
        ["split", "bicycle", "motorcycle", "total"], ["train", "3", "3", "6"], ["test", "2", "2", "4"]]
    assert f"source: {archive} (archive, md5 " in text


# -- idempotence and replacement ---------------------------------------------------------------


def test_restaging_is_a_no_op(tmp_path: Path, archive: Path) -> None:
    dest = tmp_path / "ds"
    _stage(archive, dest, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*")}
    again = _stage(archive, dest, tmp_path)
    assert again.skipped and again.images == 10
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*")} == before
    forced = _stage(archive, dest, tmp_path, force=True)
    assert not forced.skipped
    assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == sorted(p.relative_to(dest) for p in before)


def test_other_classes_replace_the_dataset(tmp_path: Path, cifar: FakeCifar, archive: Path) -> None:
    dest = tmp_path / "ds"
    _stage(archive, dest, tmp_path)
    _stage(archive, dest, tmp_path, classes=["apple"])
    store = LocalStore(dest)
    assert load_dataset_info(store).classes == ("apple",)
    assert not any("bicycle" in key for key in store.list())
    _assert_matches_cifar(store, cifar, ["apple"])


def test_a_folder_of_other_files_is_not_replaced(tmp_path: Path, archive: Path) -> None:
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "thesis.tex").write_text("precious")
    with pytest.raises(DataError, match="already holds 1 files that are not a staged dataset"):
        _stage(archive, dest, tmp_path)
    assert os.listdir(dest) == ["thesis.tex"]


@pytest.mark.parametrize("workers", [1, 2])
def test_failure_while_writing_keeps_the_old_dataset(tmp_path: Path, archive: Path,
                                                      monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    dest = tmp_path / "ds"
    _stage(archive, dest, tmp_path)
    before = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    calls = 0
    real = stage_module.encode_png

    def flaky(pixels: np.ndarray) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full")
        return real(pixels)

    monkeypatch.setattr(stage_module, "encode_png", flaky)
    monkeypatch.setattr(stage_module, "CHUNK", 1)  # many small tasks, so some are queued or running at the failure
    with pytest.raises(OSError, match="disk full"):
        _stage(archive, dest, tmp_path, classes=["apple", "bus"], workers=workers)
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.rglob("*") if ".scones-staging-" in p.name or p.name.endswith(".tmp")]


# -- bad inputs: a clear error and nothing written ---------------------------------------------


def _bad_archives(tmp_path: Path, marker: Path) -> dict[str, tuple[Path, str, dict[str, Any]]]:
    cifar = make_cifar()
    good = write_archive(tmp_path / "good.tar.gz", cifar)
    evil = pickle.dumps(ReduceTo(os.system, f"touch {marker}"), protocol=2)
    wrong = cifar.copy()
    wrong.train["data"] = wrong.train["data"][:, :1024]
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[:-200])
    return {
        "code-executing-pickle": (write_archive(tmp_path / "evil.tar.gz", cifar, override={"train": evil}),
                                  "refusing to load", {}),
        "path-traversal": (write_tar_gz(tmp_path / "trav.tar.gz", [*archive_members(cifar),
                                                                   tar_member("../../escape.txt", b"x")]),
                           "would land outside", {}),
        "symlink": (write_tar_gz(tmp_path / "link.tar.gz", [*archive_members(cifar),
                                                           tar_member("cifar-100-python/x", kind=tarfile.SYMTYPE,
                                                                      linkname="/etc/passwd")]),
                    "is a link", {}),
        "truncated-gzip": (truncated, "not a readable .tar.gz", {}),
        "wrong-checksum": (good, "has MD5 .* expected", {"expected_md5": "0" * 32}),
        "wrong-shape": (write_archive(tmp_path / "shape.tar.gz", cifar,
                                      override={"train": pickle_py3(wrong.train)}), "should be N×3072 uint8", {}),
        "unknown-class": (good, "Unknown CIFAR-100 class 'bicylce'", {"classes": ["bicylce"]}),
    }


BAD = ["code-executing-pickle", "path-traversal", "symlink", "truncated-gzip", "wrong-checksum", "wrong-shape",
       "unknown-class"]


@pytest.mark.parametrize("name", BAD)
def test_bad_sources_fail_cleanly_and_write_nothing(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    source, message, kwargs = _bad_archives(tmp_path / "in", marker)[name]
    dest = tmp_path / "out" / "dataset"
    with pytest.raises(DataError, match=message):
        _stage(source, dest, tmp_path, **kwargs)
    assert not (tmp_path / "out").exists()
    assert not marker.exists()
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("name", BAD)
def test_bad_sources_leave_an_existing_dataset_alone(tmp_path: Path, archive: Path, name: str) -> None:
    dest = tmp_path / "out" / "dataset"
    _stage(archive, dest, tmp_path)
    before = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    source, message, kwargs = _bad_archives(tmp_path / "in", tmp_path / "pwned")[name]
    with pytest.raises(DataError, match=message):
        _stage(source, dest, tmp_path, force=True, **kwargs)
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    assert os.listdir(tmp_path / "out") == ["dataset"]


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No CIFAR-100 source at") as exc:
        _stage(tmp_path / "nothing.tar.gz", tmp_path / "ds", tmp_path)
    assert "--source /path/to/cifar-100-python.tar.gz" in str(exc.value)


def test_resolve_source(tmp_path: Path, archive: Path) -> None:
    assert resolve_source("https://example.org/c.tar.gz") == stage_module.Source("url", "https://example.org/c.tar.gz")
    assert resolve_source(archive) == stage_module.Source("archive", str(archive))
    assert resolve_source(archive.as_uri()) == stage_module.Source("archive", str(archive))
    assert resolve_source(tmp_path) == stage_module.Source("folder", str(tmp_path))
    assert resolve_source("s3://bucket/dataset").kind == "folder"
    with pytest.raises(DataError, match="Cannot read a CIFAR-100 source"):
        resolve_source("ftp://host/c.tar.gz")


# -- other sources and destinations ------------------------------------------------------------


def test_stage_from_url(tmp_path: Path, cifar: FakeCifar, archive: Path, archive_server: ArchiveServer) -> None:
    archive_server.files["/data/cifar-100-python.tar.gz"] = archive.read_bytes()
    url = archive_server.url("data/cifar-100-python.tar.gz")
    result = _stage(url, tmp_path / "ds", tmp_path)
    assert result.source == stage_module.Source("url", url)
    assert result.source_md5 == hashlib.md5(archive.read_bytes()).hexdigest()
    cached = list((tmp_path / "cache" / "cifar").rglob("*.tar.gz"))
    assert [p.read_bytes() for p in cached] == [archive.read_bytes()]
    _assert_matches_cifar(LocalStore(tmp_path / "ds"), cifar, ["bicycle", "motorcycle"])


def test_failed_download_says_how_to_use_a_local_archive(tmp_path: Path, archive_server: ArchiveServer,
                                                         no_retry_delay: None) -> None:
    archive_server.fail_next = [503, 503, 503]
    with pytest.raises(DataError, match="Could not download") as exc:
        _stage(archive_server.url("cifar-100-python.tar.gz"), tmp_path / "ds", tmp_path)
    assert "SCONES_CIFAR_SOURCE" in str(exc.value)
    assert not (tmp_path / "ds").exists()


def test_stage_from_a_staged_folder(tmp_path: Path, cifar: FakeCifar, archive: Path) -> None:
    _stage(archive, tmp_path / "first", tmp_path, classes=["bicycle", "bus", "motorcycle"])
    result = _stage(tmp_path / "first", tmp_path / "second", tmp_path)
    assert result.source.kind == "folder" and result.classes == ("bicycle", "motorcycle")
    second = LocalStore(tmp_path / "second")
    _assert_matches_cifar(second, cifar, ["bicycle", "motorcycle"])
    assert load_dataset_info(second).source["kind"] == "folder"
    assert _stage(tmp_path / "first", tmp_path / "second", tmp_path).skipped


def _sagemaker_folder(root: Path, cifar: FakeCifar, *, mode: str = "RGBA") -> Path:
    """The classic project's export: RGBA PNGs with opaque alpha and .lst manifests, no dataset.json."""
    for split in ("train", "test"):
        lines = []
        (root / split).mkdir(parents=True)
        for row, fine in enumerate(cifar.split(split)["fine_labels"]):
            name = cifar.meta["fine_label_names"][fine]
            if name not in ("bicycle", "motorcycle"):
                continue
            filename = cifar.split(split)["filenames"][row]
            Image.fromarray(cifar.pixels(split, row)).convert(mode).save(root / split / filename)
            lines.append(f"{row}\t{['bicycle', 'motorcycle'].index(name)}\t{filename}\n")
        (root / f"{split}.lst").write_text("".join(lines))
    return root


@pytest.mark.parametrize("mode", ["RGBA", "RGB"])
def test_stage_from_a_sagemaker_folder(tmp_path: Path, cifar: FakeCifar, mode: str) -> None:
    folder = _sagemaker_folder(tmp_path / "sm", cifar, mode=mode)
    result = _stage(folder, tmp_path / "ds", tmp_path)
    assert result.classes == ("bicycle", "motorcycle") and result.images == 10
    store = LocalStore(tmp_path / "ds")
    _assert_matches_cifar(store, cifar, ["bicycle", "motorcycle"])
    for split in ("train", "test"):
        assert store.get_text(f"{split}.lst") == (folder / f"{split}.lst").read_text()


@pytest.mark.parametrize("damage, message", [
    ("transparent", "has transparent pixels"),
    ("missing-image", "which does not exist"),
    ("missing-lst", "test.lst is missing"),
    ("label-beyond-classes", "uses label 2, but only 2 class names"),
    ("not-png", "not a readable PNG"),
])
def test_bad_folders_fail_cleanly(tmp_path: Path, cifar: FakeCifar, damage: str, message: str) -> None:
    folder = _sagemaker_folder(tmp_path / "sm", cifar)
    first = (folder / "train.lst").read_text().splitlines()[0].split("\t")
    image = folder / "train" / first[2]
    if damage == "transparent":
        rgba = np.asarray(Image.open(image)).copy()
        rgba[0, 0, 3] = 0
        Image.fromarray(rgba).save(image)
    elif damage == "missing-image":
        image.unlink()
    elif damage == "missing-lst":
        (folder / "test.lst").unlink()
    elif damage == "label-beyond-classes":
        (folder / "train.lst").write_text(f"{first[0]}\t2\t{first[2]}\n")
    elif damage == "not-png":
        image.write_bytes(b"GIF89a not really")
    with pytest.raises(DataError, match=message):
        _stage(folder, tmp_path / "out" / "ds", tmp_path)
    assert not (tmp_path / "out").exists()


def test_folder_source_and_destination_must_differ(tmp_path: Path, archive: Path) -> None:
    _stage(archive, tmp_path / "ds", tmp_path)
    with pytest.raises(DataError, match="are the same"):
        _stage(tmp_path / "ds", tmp_path / "ds", tmp_path, force=True)


def test_md5_with_a_folder_source_is_refused_not_ignored(tmp_path: Path, archive: Path) -> None:
    from scones.errors import UsageError

    _stage(archive, tmp_path / "ds", tmp_path)
    with pytest.raises(UsageError, match="--md5 checks an archive"):
        _stage(tmp_path / "ds", tmp_path / "other", tmp_path, expected_md5="d" * 32)
    assert not (tmp_path / "other").exists()


def test_stage_to_s3(tmp_path: Path, cifar: FakeCifar, archive: Path, s3_inprocess: Any, make_bucket: Any) -> None:
    bucket = make_bucket(s3_inprocess)
    store = S3Store(bucket, "projects/scones/dataset", client=s3_inprocess)
    _stage(archive, store, tmp_path)
    keys = [o["Key"] for o in s3_inprocess.list_objects_v2(Bucket=bucket)["Contents"]]
    assert "projects/scones/dataset/dataset.json" in keys and len(keys) == 10 + 3
    assert not any(".scones-staging-" in k for k in keys)
    _assert_matches_cifar(store, cifar, ["bicycle", "motorcycle"])
    assert load_dataset_info(store).entries("test")[0].label in (0, 1)
    assert _stage(archive, store, tmp_path).skipped
    # An s3:// folder is a source too.
    back = _stage(f"s3://{bucket}/projects/scones/dataset", tmp_path / "local", tmp_path)
    assert back.source.kind == "folder"
    _assert_matches_cifar(LocalStore(tmp_path / "local"), cifar, ["bicycle", "motorcycle"])


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_load_split_reads_back_pixels_and_labels(tmp_path: Path, cifar: FakeCifar, archive: Path,
                                                 backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "s3":
        client = request.getfixturevalue("s3_inprocess")
        store: Store = S3Store(request.getfixturevalue("make_bucket")(client), "ds", client=client)
    else:
        store = LocalStore(tmp_path / "ds")
    _stage(archive, store, tmp_path)
    info = load_dataset_info(store)
    pixels, labels = load_split(store, info, "train")
    entries = info.entries("train")
    assert pixels.shape == (6, 32, 32, 3) and pixels.dtype == np.uint8
    assert labels.tolist() == [e.label for e in entries]
    for image, entry in zip(pixels, entries, strict=True):
        assert np.array_equal(image, cifar.pixels("train", entry.row))


# -- the real archive --------------------------------------------------------------------------


def _lst_lines(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_real_archive_is_pixel_exact_to_the_reference_export(shared_data: Path, tmp_path: Path) -> None:
    archive = shared_data / "cifar-100-python-bicycle-motorcycle.tar.gz"
    reference = shared_data / "cifar100-bicycle-motorcycle"
    if not archive.is_file() or not reference.is_dir():
        pytest.skip("the shared CIFAR-100 archive or its PNG export is absent")
    result = _stage(archive, tmp_path / "ds", tmp_path)
    assert result.per_class == {"train": {"bicycle": 500, "motorcycle": 500},
                                "test": {"bicycle": 100, "motorcycle": 100}}
    for split in ("train", "test"):
        ours, theirs = _lst_lines(tmp_path / "ds" / f"{split}.lst"), _lst_lines(reference / f"{split}.lst")
        # Same images, labels and order. The shared archive keeps only these rows, so its row numbers
        # count within it (0..N-1); the reference's count within the full CIFAR-100 split.
        assert [line[1:] for line in ours] == [line[1:] for line in theirs]
        assert [int(line[0]) for line in ours] == list(range(len(ours)))
        for _, _, filename in ours:
            with Image.open(tmp_path / "ds" / split / filename) as staged, \
                    Image.open(reference / split / filename) as expected:
                assert staged.mode == "RGB" and staged.size == (32, 32)
                rgba = np.asarray(expected.convert("RGBA"))
                assert (rgba[..., 3] == 255).all()
                assert np.array_equal(np.asarray(staged), rgba[..., :3]), f"{split}/{filename}"


@pytest.mark.slow
def test_real_export_folder_stages_with_identical_manifests(shared_data: Path, tmp_path: Path) -> None:
    reference = shared_data / "cifar100-bicycle-motorcycle"
    if not reference.is_dir():
        pytest.skip("the shared PNG export is absent")
    _stage(reference, tmp_path / "ds", tmp_path)
    for split in ("train", "test"):
        assert (tmp_path / "ds" / f"{split}.lst").read_text() == (reference / f"{split}.lst").read_text()
    assert load_dataset_info(LocalStore(tmp_path / "ds")).per_class("train") == {"bicycle": 500, "motorcycle": 500}
