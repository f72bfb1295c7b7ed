from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scones.cli import main


def test_serve_without_a_model_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    if Path("/opt/ml/model").is_dir():
        pytest.skip("this machine has a SageMaker model folder")
    with pytest.raises(SystemExit) as exc:
        main(["serve"])
    assert exc.value.code == 2
    assert "No model given" in capsys.readouterr().err


def test_bad_endpoint_name_is_a_usage_error(tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--model", str(tiny_model), "--endpoint-name", "bad_name!"])
    assert exc.value.code == 2
    assert "not a valid SageMaker name" in capsys.readouterr().err


def test_missing_model_is_one_clean_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--model", str(tmp_path / "nope.tar.gz"), "--port", "0"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err


def test_importing_the_command_and_the_helper_stays_light() -> None:
    code = ("import sys\nimport scones.cli.serve_cmd, scones.serve\n"
            "print(','.join(m for m in ('torch', 'onnxruntime', 'numpy', 'boto3', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}).stdout
    assert out.strip() == ""


def test_capture_flag_uses_the_default_store_and_options_reach_the_config(
        tiny_model: Path, scones_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.serve.server as server_module
    from scones.serve.config import ServeConfig

    seen: list[ServeConfig] = []
    monkeypatch.setattr(server_module, "run_server", lambda config, ready_file=None: seen.append(config))
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--model", str(tiny_model), "--capture", "--sampling-percentage", "20",
              "--capture-mode", "Input", "--capture-json-content-type", "application/jsonlines",
              "--endpoint-name", "ep-1", "--port", "0"])
    assert exc.value.code == 0
    (config,) = seen
    assert config.capture is not None
    assert config.capture.destination == f"file://{(scones_home / 'store').resolve()}/scones/data_capture"
    assert config.capture.sampling_percentage == 20
    assert (config.capture.capture_input, config.capture.capture_output) == (True, False)
    assert config.capture.json_content_types == ("application/jsonlines",)
    assert (config.endpoint_name, config.port, config.host) == ("ep-1", 0, "127.0.0.1")


def test_container_contract_port_from_sagemaker_env(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.serve.server as server_module
    from scones.serve.config import ServeConfig

    seen: list[ServeConfig] = []
    monkeypatch.setattr(server_module, "run_server", lambda config, ready_file=None: seen.append(config))
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9191")
    monkeypatch.setenv("SCONES_SERVE_MODEL", str(tiny_model))
    with pytest.raises(SystemExit):
        main(["serve"])
    (config,) = seen
    assert config.port == 9191 and config.model == str(tiny_model) and config.capture is None


def test_cli_batching_defaults_are_the_endpoints() -> None:
    # The CLI spells its defaults out so that 'scones serve --help' need not import the server;
    # they must still be the ServeConfig defaults (measured in docs/serve.md).
    from scones.cli.serve_cmd import serve
    from scones.serve.config import ServeConfig

    defaults = {p.name: p.default for p in serve.params}
    assert defaults["max_batch_size"] == ServeConfig.max_batch_size
    assert defaults["max_wait_ms"] == ServeConfig.max_wait_ms
