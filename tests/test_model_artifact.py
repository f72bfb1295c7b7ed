from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from scones.errors import ModelError
from scones.model_artifact import (
    JSON_MEMBER, ONNX_MEMBER, ModelSpec, build_tarball, load_model, read_model_tarball, write_model_tarball,
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
], ids=["missing-json", "bad-json", "checksum", "extra-member", "one-class"])
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


def test_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="scones train"):
        load_model(tmp_path)


def test_spec_rejects_unsupported_input() -> None:
    with pytest.raises(ModelError, match="only uint8 NHWC"):
        ModelSpec.from_json('{"format_version": 1, "classes": ["a", "b"], "input": {"dtype": "float32"}}')


def test_archive_bytes_do_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    artifact = make_tiny_model()
    first = build_tarball(artifact.onnx_bytes, artifact.spec)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert build_tarball(artifact.onnx_bytes, artifact.spec) == first
