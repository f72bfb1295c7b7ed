from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from scones.cli import main
from scones.errors import SconesError


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "Usage: scones" in capsys.readouterr().out


def test_user_error_prints_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from scones import cli as cli_module

    @click.command()
    def boom() -> None:
        raise SconesError("the archive is corrupt", hint="download it again")

    monkeypatch.setattr(cli_module.cli, "commands", {"boom": boom})
    with pytest.raises(SystemExit) as exc:
        main(["boom"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: the archive is corrupt")
    assert "hint: download it again" in err
    assert "Traceback" not in err


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys\nfrom scones.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'onnxruntime', 'numpy', 'boto3') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_a_command_exit_code_reaches_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from scones import cli as cli_module

    @click.command()
    @click.pass_context
    def three(ctx: click.Context) -> None:
        ctx.exit(3)

    monkeypatch.setattr(cli_module.cli, "commands", {"three": three})
    with pytest.raises(SystemExit) as exc:
        main(["three"])
    assert exc.value.code == 3


@pytest.mark.parametrize("args", [
    ["monitor", "report", "--out", "r", "--threshold", "nan"],
    ["monitor", "report", "--out", "r", "--drift-threshold", "psi=nan"],
    ["monitor", "report", "--out", "r", "--drift-threshold", "psi=-1"],
    ["monitor", "report", "--out", "r", "--drift-threshold", "ks=2"],
    ["monitor", "report", "--out", "r", "--since", "99999999999h"],
    ["threshold", "--target-precision", "nan"],
    ["load", "--rate", "nan", "--duration", "1"],
    ["serve", "--max-wait-ms", "nan"],
    ["workflow", "run", "--threshold", "inf"],
], ids=lambda a: " ".join(a[:2]) + " " + a[-1])
def test_non_finite_and_out_of_range_numbers_are_usage_errors(args: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """NaN passes click's range checks (every comparison with it is false): each option refuses it itself."""
    from scones.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Error: " in err and "Traceback" not in err


def test_sigterm_runs_cleanup_so_no_staging_folder_is_left(tmp_path: Path) -> None:
    """Killed mid-publish (kill, CI timeout), a command removes its staging area like on Ctrl-C."""
    import signal
    import subprocess
    import sys

    script = f"""
import time
from scones.cli import _exit_cleanly_on_sigterm
from scones.store import LocalStore
_exit_cleanly_on_sigterm()
with LocalStore({str(tmp_path)!r}).publish("out") as staging:
    staging.put_bytes("a.png", b"half of a dataset")
    print("staging", flush=True)
    time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "staging"
    assert any(p.name.startswith(".scones-staging-") for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--out", ""], "'--out': is empty"),
    (["train", "--data", " "], "'--data': is empty"),
    (["data", "stage", "--dest", ""], "'--dest': is empty"),
    (["threshold", "--model", "", "--target-precision", "0.9"], "'--model': is empty"),
    (["monitor", "baseline", "--out", ""], "'--out': is empty"),
    (["train", "--seed=-1"], "seed must be a whole number from 0 to 4294967295"),
    (["train", "--seed", "99999999999999999999999"], "seed must be a whole number"),
    (["workflow", "run", "--model", ""], "'--model': is empty"),
    (["workflow", "run-batch", "--endpoint-url", " "], "'--endpoint-url': is empty"),
    (["package", "functions", "--out", ""], "'--out': is empty"),
    (["monitor", "report", "--out", "r", "--since", "0h"], "--since '0h' is no time ago"),
    (["data", "stage", "--md5", "xyz"], "is not an MD5 checksum"),
])
def test_empty_paths_and_impossible_seeds_are_refused(args: list[str], message: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """An empty value (an unset shell variable) must not fall back to the store's default folder."""
    from scones.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["workflow", "run", "--backend", "aws", "--input", "{}", "--threshold", "0.5"],
    ["workflow", "run", "--backend", "aws", "--input", "{}", "--endpoint-url", "http://127.0.0.1:9"],
    ["workflow", "run-batch", "--backend", "aws", "--bucket", "b", "--isolated"],
    ["workflow", "run-batch", "--backend", "aws", "--input", "{}", "--limit", "3"],
])
def test_local_only_options_are_refused_with_the_aws_backend(args: list[str],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """They used to be accepted and ignored: --threshold 0.5 ran with the deployed 0.93."""
    from scones.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and ("only apply to the local backend" in err or "would be ignored" in err)


def test_run_batch_on_aws_looks_for_images_under_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.cli.aws_backend as backend

    seen: dict[str, str] = {}

    def fake_batch_input(bucket: str, prefix: str, limit: object, **kwargs: object) -> dict[str, object]:
        seen["prefix"] = prefix
        raise SystemExit(0)

    monkeypatch.setattr(backend, "batch_input_from_s3", fake_batch_input)
    from scones.cli import main

    with pytest.raises(SystemExit):
        main(["workflow", "run-batch", "--backend", "aws", "--bucket", "b", "--deployment", "prod"])
    assert seen["prefix"] == "prod/dataset/test/"


def test_capture_options_without_capture_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from scones.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["serve", "--model", "m.tar.gz", "--capture-mode", "Input", "--sampling-percentage", "50"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--sampling-percentage, --capture-mode configure Data Capture, which is off" in err
