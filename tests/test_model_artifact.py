from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from scones.errors import ModelError, SconesError
from scones.model_artifact import (
    JSON_MEMBER,
    ONNX_MEMBER,
    ModelSpec,
    build_tarball,
    load_model,
    read_model_tarball,
    write_model_tarball,
)
from scones.testing import make_tiny_model, tiny_model_tarball


def _tar(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()


def test_round_trip_checks_checksum_and_is_reproducible(tmp_path: Path) -> None:
    artifact = make_tiny_model(["a", "b", "c"])
    data = build_tarball(artifact.onnx_bytes, artifact.spec)
    assert data == build_tarball(artifact.onnx_bytes, artifact.spec)
    again = read_model_tarball(data)
    assert again.classes == ["a", "b", "c"] and again.onnx_bytes == artifact.onnx_bytes
    path = write_model_tarball(tmp_path / "m" / "model.tar.gz", artifact.onnx_bytes, artifact.spec)
    assert load_model(path).spec == again.spec
    assert load_model(tmp_path / "m").spec == again.spec


def test_extracted_folder_like_opt_ml_model(tmp_path: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(tiny_model_tarball()), mode="r:gz") as tar:
        for name in (ONNX_MEMBER, JSON_MEMBER):
            (tmp_path / name).write_bytes(tar.extractfile(name).read())  # type: ignore[union-attr]
    assert load_model(tmp_path).classes == ["bicycle", "motorcycle"]


@pytest.mark.parametrize("members, message", [
    ({ONNX_MEMBER: b"x"}, "lacks model.json"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b"{not json"}, "not valid JSON"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a", "b"], "onnx_sha256": "00"}'},
     "does not match the SHA-256"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b"{}", "model.pkl": b"x"}, "unexpected member"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a"]}'}, "at least two"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a", "b"], "training": [1, 2]}'},
     "'training' must be a JSON object, got list"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a", "b"], "versions": "x"}'},
     "'versions' must be a JSON object, got str"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a", "b"], '
                                      b'"training": {"validation_files": [{"a": 1}]}}'},
     "'training.validation_files' must be a list of file names"),
    ({ONNX_MEMBER: b"x", JSON_MEMBER: b'{"format_version": 1, "classes": ["a", "b"], "input": [1]}'},
     "'input' must be a JSON object"),
], ids=["missing-json", "bad-json", "checksum", "extra-member", "one-class", "training-list", "versions-str",
        "validation-files-objects", "input-list"])
def test_bad_archives_are_refused(members: dict[str, bytes], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        read_model_tarball(_tar(members))


def test_link_member_and_garbage_are_refused() -> None:
    with pytest.raises(ModelError, match="not a regular file"):
        read_model_tarball(_tar({}, symlink=ONNX_MEMBER))
    with pytest.raises(ModelError, match="not a readable tar.gz"):
        read_model_tarball(b"definitely not gzip")
    with pytest.raises(ModelError, match="not a readable tar.gz"):
        read_model_tarball(tiny_model_tarball()[:200])


def test_duplicate_member_is_refused_not_last_one_wins() -> None:
    buf = io.BytesIO()
    good = read_model_tarball(tiny_model_tarball())
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in ((ONNX_MEMBER, good.onnx_bytes), (JSON_MEMBER, good.spec.to_json().encode()),
                           (JSON_MEMBER, good.spec.to_json().replace("bicycle", "x").encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ModelError, match="'model.json' appears twice"):
        read_model_tarball(buf.getvalue())


def test_multi_member_gzip_is_read() -> None:
    """gzip allows members one after another (and tar/gzip tools read them); so does load_model."""
    import gzip

    raw = gzip.decompress(tiny_model_tarball())
    half = len(raw) // 2
    two_members = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert read_model_tarball(two_members).classes == ["bicycle", "motorcycle"]


def test_duplicate_or_unknown_spec_fields_are_named() -> None:
    with pytest.raises(ModelError, match="two distinct class names"):
        ModelSpec.from_json('{"format_version": 1, "classes": ["a", "a"]}')
    with pytest.raises(ModelError, match="unknown keys: foo"):
        ModelSpec.from_json('{"format_version": 1, "classes": ["a", "b"], "input": {"foo": 1}}')


@pytest.mark.parametrize("damage", ["crc", "trailer", "deflate"])
def test_damaged_gzip_stream_is_refused(damage: str) -> None:
    """The gzip CRC and length are checked, and a broken deflate stream is a ModelError, not zlib.error."""
    data = bytearray(tiny_model_tarball())
    if damage == "crc":
        data[-8] ^= 0xFF
    elif damage == "trailer":
        del data[-8:]
    else:
        data[len(data) // 2] ^= 0xFF
    with pytest.raises(ModelError, match="not a readable tar.gz archive"):
        read_model_tarball(bytes(data))


def test_bytes_that_are_not_onnx_are_a_model_error() -> None:
    import hashlib
    import json

    import numpy as np

    from scones.serve.predictor import Predictor
    from scones.train.export import onnx_probabilities

    good = read_model_tarball(tiny_model_tarball())
    fake = b"\x80\x04\x95 a pickle, not a graph"
    spec = json.loads(good.spec.to_json()) | {"onnx_sha256": hashlib.sha256(fake).hexdigest()}
    artifact = read_model_tarball(_tar({ONNX_MEMBER: fake, JSON_MEMBER: json.dumps(spec).encode()}))
    with pytest.raises(ModelError, match="ONNX Runtime cannot load model.onnx"):
        Predictor(artifact)
    with pytest.raises(ModelError, match="ONNX Runtime cannot load model.onnx"):
        onnx_probabilities(artifact.onnx_bytes, np.zeros((1, 32, 32, 3), "uint8"))


def test_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="scones train"):
        load_model(tmp_path)


@pytest.mark.parametrize("size", ['"32"', "0", "-3", "100000", "true", "1.5"])
def test_spec_rejects_input_sizes_the_endpoint_could_not_allocate(size: str) -> None:
    """The SHA-256 covers model.onnx only: model.json's input section is checked on its own."""
    with pytest.raises(ModelError, match="input height must be a whole number from 1 to 4096"):
        ModelSpec.from_json('{"format_version": 1, "classes": ["a", "b"], "input": {"height": ' + size + "}}")


def test_model_path_at_the_root_is_read_there_not_in_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.tar.gz").write_bytes(tiny_model_tarball())
    monkeypatch.chdir(tmp_path)
    assert load_model("model.tar.gz").classes == ["bicycle", "motorcycle"]
    for uri in ("/scones-no-such-model.tar.gz", "file:///scones-no-such-model.tar.gz"):
        with pytest.raises(SconesError, match="No object file:///scones-no-such-model.tar.gz"):
            load_model(uri)


def test_spec_rejects_unsupported_input() -> None:
    with pytest.raises(ModelError, match="only uint8 NHWC"):
        ModelSpec.from_json('{"format_version": 1, "classes": ["a", "b"], "input": {"dtype": "float32"}}')


def test_archive_bytes_do_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    artifact = make_tiny_model()
    first = build_tarball(artifact.onnx_bytes, artifact.spec)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert build_tarball(artifact.onnx_bytes, artifact.spec) == first
