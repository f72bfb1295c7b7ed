from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scones.errors import DataError
from scones.store import open_store
from scones.train.data import load_dataset, parse_lst, read_dataset_info, stratified_split


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
    (json.dumps({"classes": "red"}), "no list of class names"),
    (json.dumps({"classes": ["a", "a"]}), "twice"),
    (json.dumps({"classes": []}), "0 class"),
], ids=["syntax", "not-a-list", "duplicate", "empty"])
def test_bad_dataset_json(tiny_dataset: Path, content: str, message: str) -> None:
    (tiny_dataset / "dataset.json").write_text(content)
    with pytest.raises(DataError, match=message):
        read_dataset_info(open_store(str(tiny_dataset)))


@pytest.mark.parametrize("text, message", [
    ("1\t0\n", "expected 'row<TAB>label<TAB>file'"),
    ("1\tx\ta.png\n", "not a number"),
    ("1\t5\ta.png\n", "outside 0..1"),
    ("\n", "lists no images"),
], ids=["columns", "label", "range", "empty"])
def test_bad_lst(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_lst(text, origin="train.lst", num_classes=2)


def test_images_of_different_sizes(tiny_dataset: Path) -> None:
    from PIL import Image

    Image.new("RGB", (16, 16)).save(tiny_dataset / "train" / "green_train_000.png")
    with pytest.raises(DataError, match="green_train_000.png is 16x16"):
        load_dataset(open_store(str(tiny_dataset)))
