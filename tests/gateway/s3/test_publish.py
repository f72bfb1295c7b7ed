"""Publishing a finished file: new names, overwrites (exchanged, the old file gone), folders refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.gateway.s3 import publish as publish_module
from scones.gateway.s3.publish import publish


@pytest.fixture(params=["exchange", "replace"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "replace":
        monkeypatch.setattr(publish_module, "_exchange", None)
    return str(request.param)


def _tmp(folder: Path, data: bytes) -> Path:
    tmp = folder / ".s3-partial-1-a.tmp"
    tmp.write_bytes(data)
    return tmp


def test_new_and_overwritten(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "obj"
    publish(str(_tmp(tmp_path, b"one")), str(target))
    assert target.read_bytes() == b"one"
    publish(str(_tmp(tmp_path, b"two")), str(target))
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obj"]


def test_folder_target_refused(tmp_path: Path, mode: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "child").write_bytes(b"kept")
    tmp = _tmp(tmp_path, b"x")
    with pytest.raises(IsADirectoryError):
        publish(str(tmp), str(tmp_path / "dir"))
    assert (tmp_path / "dir" / "child").read_bytes() == b"kept"
