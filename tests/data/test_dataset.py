from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scones.data.dataset import (
    DATASET_JSON,
    FORMAT_VERSION,
    ManifestEntry,
    build_dataset_json,
    format_lst,
    load_dataset_info,
    parse_lst,
)
from scones.errors import DataError
from scones.store import LocalStore, Store

CLASSES = ("bicycle", "motorcycle")
TRAIN = [ManifestEntry(16, 0, "bike_s_000682.png"), ManifestEntry(152, 1, "minibike_s_000824.png"),
         ManifestEntry(195, 1, "motorcycle_s_001856.png")]
TEST = [ManifestEntry(27, 0, "safety_bike_s_000390.png")]


def _write_dataset(store: Store) -> None:
    for split, entries in (("train", TRAIN), ("test", TEST)):
        for entry in entries:
            store.put_bytes(f"{split}/{entry.filename}", b"png")
        store.put_text(f"{split}.lst", format_lst(entries))
    doc = build_dataset_json(CLASSES, {"train": TRAIN, "test": TEST}, source_uri="/data/cifar.tar.gz",
                             source_kind="archive", source_md5="0" * 32,
                             created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    store.put_text(DATASET_JSON, json.dumps(doc))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "dataset")
    _write_dataset(store)
    return store


def test_dataset_json_shape() -> None:
    doc = build_dataset_json(CLASSES, {"train": TRAIN, "test": TEST}, source_uri="u", source_kind="url",
                             source_md5="abc", created=datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC))
    assert doc == {
        "format_version": 1,
        "classes": ["bicycle", "motorcycle"],
        "splits": {"train": {"count": 3, "per_class": {"bicycle": 1, "motorcycle": 2}},
                   "test": {"count": 1, "per_class": {"bicycle": 1, "motorcycle": 0}}},
        "source": {"uri": "u", "kind": "url", "md5": "abc"},
        "created": "2026-01-02T03:04:05Z",
    }


def test_lst_round_trip_matches_sagemaker_format() -> None:
    text = format_lst(TRAIN)
    assert text.splitlines()[0] == "16\t0\tbike_s_000682.png"
    assert text.endswith("\n")
    assert parse_lst(text, where="train.lst", num_classes=2) == TRAIN


def test_load_dataset_info(store: LocalStore) -> None:
    info = load_dataset_info(store)
    assert info.classes == CLASSES
    assert info.entries("train") == tuple(TRAIN)
    assert info.entries("test") == tuple(TEST)
    row, label, filename = info.entries("train")[1]
    assert (row, label, filename) == (152, 1, "minibike_s_000824.png")
    assert info.image_key("test", TEST[0]) == "test/safety_bike_s_000390.png"
    assert info.per_class("train") == {"bicycle": 1, "motorcycle": 2}
    assert info.label_name(1) == "motorcycle"
    assert info.source == {"uri": "/data/cifar.tar.gz", "kind": "archive", "md5": "0" * 32}
    assert info.created == "2026-01-02T03:04:05Z"
    assert info.uri == store.uri
    with pytest.raises(DataError, match="no split 'validation'"):
        info.entries("validation")


def test_empty_prefix_is_no_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no dataset") as exc:
        load_dataset_info(LocalStore(tmp_path / "nothing"))
    assert "scones data stage --dest" in str(exc.value)


def test_manifests_without_dataset_json_are_half_staged(store: LocalStore) -> None:
    store.delete(DATASET_JSON)
    with pytest.raises(DataError, match="half-staged: its manifests exist but dataset.json does not"):
        load_dataset_info(store)


def test_missing_manifest_is_half_staged(store: LocalStore) -> None:
    store.delete("test.lst")
    with pytest.raises(DataError, match="half-staged: test.lst is missing"):
        load_dataset_info(store)


def test_missing_image_is_half_staged(store: LocalStore) -> None:
    store.delete("train/minibike_s_000824.png")
    with pytest.raises(DataError, match="1 images of train.lst are missing .*train/minibike_s_000824.png"):
        load_dataset_info(store)
    assert load_dataset_info(store, check_images=False).entries("train") == tuple(TRAIN)


def test_counts_disagreeing_with_dataset_json(store: LocalStore) -> None:
    store.put_text("train.lst", format_lst(TRAIN[:2]))
    with pytest.raises(DataError, match="train.lst has 2 images but dataset.json says 3"):
        load_dataset_info(store)


def test_other_format_version(store: LocalStore) -> None:
    doc = json.loads(store.get_text(DATASET_JSON))
    doc["format_version"] = FORMAT_VERSION + 1
    store.put_text(DATASET_JSON, json.dumps(doc))
    with pytest.raises(DataError, match="format_version 2"):
        load_dataset_info(store)


@pytest.mark.parametrize("doc", ["not json", "[]", json.dumps({"format_version": 1, "classes": [],
                                                                "splits": {}})],
                         ids=["invalid", "array", "no-classes"])
def test_broken_dataset_json(store: LocalStore, doc: str) -> None:
    store.put_text(DATASET_JSON, doc)
    with pytest.raises(DataError):
        load_dataset_info(store)


@pytest.mark.parametrize("line, message", [
    ("1\t0", "expected 'row<TAB>label<TAB>filename'"),
    ("x\t0\ta.png", "must be integers"),
    ("1\t2\ta.png", "label 2 is not in 0..1"),
    ("-1\t0\ta.png", "negative"),
    ("1\t0\t../a.png", "not a plain image file name"),
    ("1\t0\tsub/a.png", "not a plain image file name"),
    ("1\t0\ta.jpg", "not a plain image file name"),
], ids=["fields", "not-int", "label-range", "negative-row", "dotdot", "folder", "not-png"])
def test_parse_lst_refuses_bad_lines(line: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_lst(f"0\t0\tok.png\n{line}\n", where="train.lst", num_classes=2)


def test_parse_lst_refuses_duplicate_names() -> None:
    with pytest.raises(DataError, match="more than once: a.png"):
        parse_lst("0\t0\ta.png\n1\t1\ta.png\n", where="train.lst", num_classes=2)


def test_load_split_refuses_a_missing_or_broken_image(store: LocalStore) -> None:
    from scones.data.dataset import load_split

    info = load_dataset_info(store)
    with pytest.raises(DataError, match="is not a readable PNG"):  # the fixture's images are not PNGs
        load_split(store, info, "train")
    store.delete("test/safety_bike_s_000390.png")
    with pytest.raises(DataError, match="is missing"):
        load_split(store, info, "test")


def _write_pngs(store: LocalStore, sizes: dict[str, int]) -> None:
    import numpy as np

    from scones.data.png import encode_rgb_png

    for index, (key, size) in enumerate(sizes.items()):
        store.put_bytes(key, encode_rgb_png(np.full((size, size, 3), 40 * index, dtype=np.uint8)))


def test_load_split_decodes_in_manifest_order_with_a_progress_bar(store: LocalStore) -> None:
    from scones.data.dataset import load_split

    _write_pngs(store, {f"train/{e.filename}": 32 for e in TRAIN})
    pixels, labels = load_split(store, load_dataset_info(store), "train", show_progress=True)
    assert pixels.shape == (3, 32, 32, 3) and pixels.dtype.name == "uint8"
    assert [int(pixels[i, 0, 0, 0]) for i in range(3)] == [0, 40, 80]
    assert labels.tolist() == [e.label for e in TRAIN]


def test_load_split_names_the_image_of_another_size(store: LocalStore) -> None:
    from scones.data.dataset import load_split

    _write_pngs(store, {"train/bike_s_000682.png": 32, "train/minibike_s_000824.png": 32,
                        "train/motorcycle_s_001856.png": 16})
    with pytest.raises(DataError, match="train/motorcycle_s_001856.png is 16x16, the images before it in "
                                        "train.lst are 32x32"):
        load_split(store, load_dataset_info(store), "train")


def test_one_split_is_read_alone_as_in_a_sagemaker_channel(store: LocalStore) -> None:
    for entry in TEST:
        store.delete(f"test/{entry.filename}")
    store.delete("test.lst")
    info = load_dataset_info(store, splits=("train",))
    assert list(info.splits) == ["train"] and info.entries("train") == tuple(TRAIN)
    with pytest.raises(DataError, match="no split 'test'"):
        info.entries("test")
    with pytest.raises(DataError, match="half-staged: test.lst is missing"):
        load_dataset_info(store, splits=("test",))


def test_plain_sagemaker_layout_is_read_only_when_asked(store: LocalStore) -> None:
    store.delete(DATASET_JSON)
    info = load_dataset_info(store, plain_layout=True)
    assert info.plain and info.classes == ("0", "1") and info.entries("train") == tuple(TRAIN)
    assert not info.source and not info.created
    with pytest.raises(DataError, match="half-staged"):
        load_dataset_info(store)


def test_check_trainable(store: LocalStore) -> None:
    from scones.data.dataset import check_trainable

    check_trainable(store, load_dataset_info(store))
    one = [ManifestEntry(16, 0, "bike_s_000682.png")]
    store.put_text("train.lst", format_lst(one))
    store.put_text(DATASET_JSON, json.dumps(build_dataset_json(CLASSES, {"train": one, "test": TEST},
                                                               source_uri="u", source_kind="url", source_md5="")))
    with pytest.raises(DataError, match="train.lst lists images of only one class \\(bicycle\\)"):
        check_trainable(store, load_dataset_info(store))
    store.put_text("test.lst", "")
    store.put_text(DATASET_JSON, json.dumps(build_dataset_json(CLASSES, {"train": TRAIN, "test": []},
                                                               source_uri="u", source_kind="url", source_md5="")))
    store.put_text("train.lst", format_lst(TRAIN))
    with pytest.raises(DataError, match="test.lst lists no images"):
        check_trainable(store, load_dataset_info(store))
