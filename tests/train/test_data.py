from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scones.data.dataset import load_dataset_info, parse_lst
from scones.errors import DataError
from scones.store import open_store
from scones.train.data import load_dataset, stratified_split


def test_stratified_split_is_seeded_and_per_class() -> None:
    labels = np.array([0] * 10 + [1] * 30 + [2] * 5)
    fit, held = stratified_split(labels, 0.2, seed=1)
    assert sorted(np.r_[fit, held].tolist()) == list(range(45))
    assert np.bincount(labels[held]).tolist() == [2, 6, 1]
    again_fit, again_held = stratified_split(labels, 0.2, seed=1)
    assert held.tolist() == again_held.tolist() and fit.tolist() == again_fit.tolist()
    assert stratified_split(labels, 0.2, seed=2)[1].tolist() != held.tolist()


def test_class_with_one_image_cannot_be_split() -> None:
    with pytest.raises(DataError, match="at least 2"):
        stratified_split(np.array([0, 0, 0, 1]), 0.2, seed=0)


def test_load_dataset_decodes_rgb_in_lst_order(tiny_dataset: Path) -> None:
    ds = load_dataset(open_store(str(tiny_dataset)))
    assert ds.classes == ["red", "green"]
    assert ds.train.images.shape == (24, 32, 32, 3) and ds.train.images.dtype == np.uint8
    assert ds.train.files[0] == "red_train_000.png" and ds.train.labels.tolist() == [0] * 12 + [1] * 12
    # red images are red on average
    assert ds.train.images[:12, ..., 0].mean() > ds.train.images[:12, ..., 1].mean() + 50


def test_rgba_png_becomes_rgb(tiny_dataset: Path) -> None:
    from PIL import Image

    path = tiny_dataset / "train" / "red_train_000.png"
    Image.open(path).convert("RGBA").save(path)
    assert load_dataset(open_store(str(tiny_dataset))).train.images.shape[-1] == 3


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    (json.dumps({"format_version": 1, "classes": "red"}), "non-empty list of distinct names"),
    (json.dumps({"format_version": 1, "classes": ["a", "a"]}), "non-empty list of distinct names"),
    (json.dumps({"format_version": 1, "classes": []}), "non-empty list of distinct names"),
], ids=["syntax", "not-a-list", "duplicate", "empty"])
def test_bad_dataset_json(tiny_dataset: Path, content: str, message: str) -> None:
    (tiny_dataset / "dataset.json").write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(open_store(str(tiny_dataset)))


def test_missing_dataset_says_how_to_stage_one(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no dataset") as info:
        load_dataset(open_store(str(tmp_path / "nothing")))
    assert "scones data stage" in (info.value.hint or "")


@pytest.mark.parametrize("text, message", [
    ("1\t0\n", "expected 'row<TAB>label<TAB>filename'"),
    ("1\tx\ta.png\n", "must be integers"),
    ("1\t5\ta.png\n", "not in 0..1"),
], ids=["columns", "label", "range"])
def test_bad_lst(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_lst(text, where="train.lst", num_classes=2)


def test_one_class_cannot_be_trained(make_dataset: Callable[..., Path]) -> None:
    root = make_dataset(("red",))
    with pytest.raises(DataError, match="has 1 class \\(red\\); a classifier needs at least two"):
        load_dataset(open_store(str(root)))


def test_training_images_of_one_class_cannot_be_trained(tiny_dataset: Path) -> None:
    manifest = tiny_dataset / "train.lst"
    manifest.write_text("".join(line + "\n" for line in manifest.read_text().splitlines() if "\t0\t" in line))
    doc = json.loads((tiny_dataset / "dataset.json").read_text())
    doc["splits"]["train"] = {"count": 12, "per_class": {"red": 12, "green": 0}}
    (tiny_dataset / "dataset.json").write_text(json.dumps(doc))
    assert load_dataset_info(open_store(str(tiny_dataset))).per_class("train") == {"red": 12, "green": 0}
    with pytest.raises(DataError, match="train.lst lists images of only one class \\(red\\)"):
        load_dataset(open_store(str(tiny_dataset)))


def test_half_staged_dataset_fails_before_decoding(tiny_dataset: Path) -> None:
    (tiny_dataset / "test" / "green_test_003.png").unlink()
    with pytest.raises(DataError, match="half-staged: 1 images of test.lst are missing"):
        load_dataset(open_store(str(tiny_dataset)))


def test_broken_png_is_named(tiny_dataset: Path) -> None:
    (tiny_dataset / "test" / "red_test_001.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="red_test_001.png is not a readable PNG"):
        load_dataset(open_store(str(tiny_dataset)))


def test_images_of_different_sizes(tiny_dataset: Path) -> None:
    from PIL import Image

    Image.new("RGB", (16, 16)).save(tiny_dataset / "train" / "green_train_000.png")
    with pytest.raises(DataError, match="green_train_000.png is 16x16"):
        load_dataset(open_store(str(tiny_dataset)))
