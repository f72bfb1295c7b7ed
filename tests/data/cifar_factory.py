"""Small CIFAR-100-format archives for tests, good and malicious.

``FakeCifar`` holds a few rows of a handful of real CIFAR-100 class names with
random pixels. ``write_archive`` packs it the way the official archive is
packed: ``cifar-100-python/{meta,train,test}`` as protocol-2 pickles, either
as Python 3 writes them (``py3``: byte strings via ``_codecs.encode``, numpy's
``_reconstruct``) or byte-for-byte the way Python 2's cPickle wrote the
official files (``py2``: ``SHORT_BINSTRING``/``BINSTRING`` and
``numpy.core.multiarray._reconstruct``), which Python 3 cannot produce itself.
"""

from __future__ import annotations

import copy
import gzip
import io
import pickle
import struct
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: A slice of CIFAR-100's label space: (fine index, fine name, coarse index, coarse name), as in the real meta.
CLASSES: tuple[tuple[int, str, int, str], ...] = (
    (0, "apple", 4, "fruit_and_vegetables"),
    (8, "bicycle", 18, "vehicles_1"),
    (13, "bus", 18, "vehicles_1"),
    (48, "motorcycle", 18, "vehicles_1"),
    (58, "pickup_truck", 18, "vehicles_1"),
    (83, "sweet_pepper", 4, "fruit_and_vegetables"),
)


def _meta_names() -> tuple[list[str], list[str]]:
    fine = [f"fine_{i:02d}" for i in range(100)]
    coarse = [f"coarse_{i:02d}" for i in range(20)]
    for f, fname, c, cname in CLASSES:
        fine[f], coarse[c] = fname, cname
    return fine, coarse


@dataclass
class FakeCifar:
    """The content of a CIFAR-100 python archive, as plain Python values (str keys and names)."""

    meta: dict[str, Any]
    train: dict[str, Any]
    test: dict[str, Any]
    extra_members: list[tuple[tarfile.TarInfo, bytes | None]] = field(default_factory=list)

    def split(self, name: str) -> dict[str, Any]:
        return self.train if name == "train" else self.test

    def rows_of(self, split: str, fine_name: str) -> list[int]:
        fine = self.meta["fine_label_names"].index(fine_name)
        return [i for i, label in enumerate(self.split(split)["fine_labels"]) if label == fine]

    def pixels(self, split: str, row: int) -> np.ndarray:
        """The H×W×3 image CIFAR's channel-planar row stands for, computed independently of scones."""
        flat = self.split(split)["data"][row]
        return np.stack([flat[0:1024].reshape(32, 32), flat[1024:2048].reshape(32, 32),
                         flat[2048:3072].reshape(32, 32)], axis=-1)

    def copy(self) -> FakeCifar:
        return copy.deepcopy(self)


def make_cifar(per_class: dict[str, int] | None = None, *, test_per_class: int = 2, seed: int = 0) -> FakeCifar:
    """Rows of every class in ``CLASSES`` (``per_class`` overrides train counts), shuffled like CIFAR."""
    rng = np.random.default_rng(seed)
    fine_names, coarse_names = _meta_names()
    counts = per_class or {name: 3 for _, name, _, _ in CLASSES}

    def split(name: str, count_of: Callable[[str], int]) -> dict[str, Any]:
        labels: list[tuple[int, int, str]] = []
        for fine, fname, coarse, _ in CLASSES:
            labels += [(fine, coarse, fname)] * count_of(fname)
        order = rng.permutation(len(labels))
        labels = [labels[i] for i in order]
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        filenames = [f"{fname}_s_{i:06d}.png" for i, (_, _, fname) in enumerate(labels)]
        return {"filenames": filenames, "batch_label": f"{name} batch 1 of 1",
                "fine_labels": [f for f, _, _ in labels], "coarse_labels": [c for _, c, _ in labels], "data": data}

    return FakeCifar(meta={"fine_label_names": fine_names, "coarse_label_names": coarse_names},
                     train=split("training", lambda n: counts.get(n, 0)),
                     test=split("testing", lambda n: test_per_class if counts.get(n, 0) else 0))


# -- pickles -----------------------------------------------------------------------------------


def _to_bytes(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj.encode("latin1")
    if isinstance(obj, dict):
        return {_to_bytes(k): _to_bytes(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_bytes(v) for v in obj]
    return obj


def pickle_py3(obj: Any, protocol: int = 2) -> bytes:
    """As a Python 3 program re-saving CIFAR writes it: byte-string keys and names, numpy's own reduce."""
    return pickle.dumps(_to_bytes(obj), protocol=protocol)


class _Py2Writer:
    """Just enough of cPickle's protocol 2 to write CIFAR's dicts as Python 2 did."""

    def __init__(self) -> None:
        self.out = io.BytesIO()

    def write(self, obj: Any) -> bytes:
        self.out.write(b"\x80\x02")
        self._obj(obj)
        self.out.write(b".")
        return self.out.getvalue()

    def _str(self, text: str | bytes) -> None:
        raw = text.encode("latin1") if isinstance(text, str) else text
        if len(raw) < 256:
            self.out.write(b"U" + bytes([len(raw)]) + raw)  # SHORT_BINSTRING
        else:
            self.out.write(b"T" + struct.pack("<i", len(raw)) + raw)  # BINSTRING

    def _int(self, value: int) -> None:
        if 0 <= value < 256:
            self.out.write(b"K" + bytes([value]))
        elif 0 <= value < 65536:
            self.out.write(b"M" + struct.pack("<H", value))
        else:
            self.out.write(b"J" + struct.pack("<i", value))

    def _obj(self, obj: Any) -> None:
        if isinstance(obj, bool):
            self.out.write(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int):
            self._int(obj)
        elif isinstance(obj, str | bytes):
            self._str(obj)
        elif obj is None:
            self.out.write(b"N")
        elif isinstance(obj, list):
            self.out.write(b"](")
            for item in obj:
                self._obj(item)
            self.out.write(b"e")
        elif isinstance(obj, dict):
            self.out.write(b"}(")
            for key, value in obj.items():
                self._obj(key)
                self._obj(value)
            self.out.write(b"u")
        elif isinstance(obj, np.ndarray):
            self._array(obj)
        else:  # pragma: no cover - the factory only writes CIFAR's types
            raise TypeError(type(obj))

    def _array(self, array: np.ndarray) -> None:
        out = self.out
        out.write(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n")
        out.write(b"K\x00\x85U\x01b\x87R")  # _reconstruct(ndarray, (0,), 'b')
        out.write(b"(K\x01")  # state: (1, shape, dtype, is_fortran, rawdata)
        out.write(b"(")
        for n in array.shape:
            self._int(n)
        out.write(b"t")
        code = array.dtype.str[1:]
        order = array.dtype.str[0]
        out.write(b"cnumpy\ndtype\n")
        self._str(code)
        out.write(b"K\x00K\x01\x87R")  # dtype(code, 0, 1)
        out.write(b"(K\x03")
        self._str(order)
        out.write(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")  # BUILD dtype state
        out.write(b"\x89")  # not Fortran order
        self._str(np.ascontiguousarray(array).tobytes())
        out.write(b"tb")  # BUILD array state


def pickle_py2(obj: Any) -> bytes:
    return _Py2Writer().write(obj)


PICKLERS: dict[str, Callable[[Any], bytes]] = {
    "py2": pickle_py2,
    "py3": pickle_py3,
    "py3-protocol4": lambda obj: pickle_py3(obj, protocol=4),
}


# -- archives ----------------------------------------------------------------------------------


def tar_member(name: str, data: bytes | None = None, *, kind: bytes = tarfile.REGTYPE,
               linkname: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if data is not None and kind == tarfile.REGTYPE else 0
    info.mode = 0o644
    return info, data if kind == tarfile.REGTYPE else None


def write_tar_gz(path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def archive_members(cifar: FakeCifar, *, style: str = "py3",
                    override: dict[str, bytes] | None = None) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    dump = PICKLERS[style]
    pickles = {"meta": dump(cifar.meta), "train": dump(cifar.train), "test": dump(cifar.test)}
    pickles.update(override or {})
    members = [tar_member("cifar-100-python", kind=tarfile.DIRTYPE)]
    members += [tar_member(f"cifar-100-python/{name}", data) for name, data in pickles.items()]
    return members + cifar.extra_members


def write_archive(path: Path, cifar: FakeCifar, *, style: str = "py3",
                  override: dict[str, bytes] | None = None) -> Path:
    """``cifar`` as ``cifar-100-python.tar.gz``; ``override`` swaps a member's bytes (e.g. an evil pickle)."""
    return write_tar_gz(path, archive_members(cifar, style=style, override=override))


# -- malicious pickles -------------------------------------------------------------------------


class ReduceTo:
    """Pickles as ``func(*args)``: what an attacker puts in a file to run code on load."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args
