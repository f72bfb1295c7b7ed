from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from scones.cli import cli, main
from scones.store import LocalStore


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_stage_into_the_default_store(cifar_archive: Path, scones_home: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["data", "stage", "--source", str(cifar_archive)], capsys)
    assert code == 0, err
    dataset = scones_home / "store" / "scones" / "dataset"
    assert out.splitlines()[0].startswith(f"Staged 10 images of 2 classes into {LocalStore(dataset).uri}")
    assert json.loads((dataset / "dataset.json").read_text())["classes"] == ["bicycle", "motorcycle"]
    code, out, _ = _run(["data", "info"], capsys)
    assert code == 0
    assert "classes: 0=bicycle, 1=motorcycle" in out and "train: 6 images (bicycle 3, motorcycle 3)" in out


def test_stage_uses_scones_cifar_source(cifar_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCONES_CIFAR_SOURCE", str(cifar_archive))
    code, out, err = _run(["data", "stage", "--classes", "vehicles_1", "--dest", str(tmp_path / "ds")], capsys)
    assert code == 0, err
    assert "of 4 classes" in out
    assert (tmp_path / "ds" / "train.lst").is_file()


@pytest.mark.parametrize("args, message", [
    (["--classes", "bicycel"], "Error: Unknown CIFAR-100 class 'bicycel'\n  hint: closest: bicycle"),
    (["--md5", "0" * 32], "has MD5"),
], ids=["unknown-class", "wrong-md5"])
def test_user_errors_print_one_message(cifar_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       args: list[str], message: str) -> None:
    code, out, err = _run(["data", "stage", "--source", str(cifar_archive), "--dest", str(tmp_path / "ds"), *args],
                          capsys)
    assert code == 1
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "ds").exists()


def test_failed_download_points_at_a_local_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("scones.data.cifar.RETRY_BASE_DELAY", 0.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = _run(["data", "stage", "--source", f"http://127.0.0.1:{port}/cifar-100-python.tar.gz",
                         "--dest", str(tmp_path / "ds")], capsys)
    assert code == 1
    assert err.startswith("Error: Could not download")
    assert "--source /path/to/cifar-100-python.tar.gz" in err and "SCONES_CIFAR_SOURCE" in err


def test_info_on_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["data", "info", str(tmp_path / "empty")], capsys)
    assert code == 1 and "holds no dataset" in err


def test_help_with_click_runner() -> None:
    result = CliRunner().invoke(cli, ["data", "stage", "--help"])
    assert result.exit_code == 0
    for option in ("--source", "--classes", "--dest", "--md5", "--force"):
        assert option in result.output
