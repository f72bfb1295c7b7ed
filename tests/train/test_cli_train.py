"""``scones train`` and ``scones threshold`` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_train_then_threshold(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model"
    code, stdout, stderr = run(["train", "--data", str(tiny_dataset), "--arch", "small_resnet", "--epochs", "1",
                                "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "test accuracy" in stdout and "at threshold 0.93" in stdout
    assert (out / "model.tar.gz").is_file()
    code, stdout, stderr = run(["threshold", "--model", str(out), "--data", str(tiny_dataset),
                                "--target-coverage", "0.5"], capsys)
    assert code == 0, stderr
    assert stdout.startswith("threshold ") and "expect on test: coverage" in stdout


def test_train_defaults_to_the_store(tiny_dataset: Path, scones_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    shutil.copytree(tiny_dataset, scones_home / "store" / "scones" / "dataset")
    code, _, stderr = run(["train", "--arch", "small_resnet", "--epochs", "1"], capsys)
    assert code == 0, stderr
    assert (scones_home / "store" / "scones" / "model" / "model.tar.gz").is_file()


@pytest.mark.parametrize("argv, message", [
    (["train", "--arch", "vgg", "--data", "x"], "Unknown architecture 'vgg'"),
    (["train", "--data", "/nonexistent/dataset"], "holds no dataset"),
    (["train", "--on", "sagemaker", "--bucket", "b"], "needs --role"),
    (["threshold", "--model", "/nonexistent/model"], "Give exactly one of"),
    (["threshold", "--model", "/nonexistent/model", "--target-precision", "0.99"], "No model at"),
], ids=["arch", "no-data", "sagemaker-no-role", "no-target", "no-model"])
def test_user_errors_are_one_line_without_traceback(argv: list[str], message: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run(argv, capsys)
    assert code != 0
    assert stderr.startswith("Error: ") and message in stderr and "Traceback" not in stderr


def test_cli_module_does_not_import_torch() -> None:
    import os
    import subprocess
    import sys

    import scones

    src = str(Path(scones.__file__).resolve().parents[1])
    code = "import sys, scones.cli.train_cmd; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": src})
    assert result.stdout.strip() == "False"
