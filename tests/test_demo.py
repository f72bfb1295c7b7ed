from __future__ import annotations

from pathlib import Path

import pytest

from scones.cli import main
from scones.config import Settings
from scones.data.dataset import load_dataset_info
from scones.demo import DemoState, run_demo
from scones.store import open_store


def test_run_demo_stages_the_data(cifar_archive: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", cifar_source=str(cifar_archive), progress=False)
    lines: list[str] = []
    outcomes = run_demo(settings, echo=lines.append)
    assert [o.name for o in outcomes] == ["stage data"]
    assert lines[0] == "[1/1] stage data"
    assert lines[1].startswith("    Staged 10 images of 2 classes")
    assert lines[-1].startswith("Demo finished: 1 stage in")
    info = load_dataset_info(open_store(settings.default_uri("dataset")))
    assert info.classes == ("bicycle", "motorcycle")


def test_run_demo_runs_given_stages_in_order(tmp_path: Path) -> None:
    seen: list[str] = []

    def first(state: DemoState) -> str:
        state.outputs["x"] = 1
        seen.append("first")
        return "one"

    def second(state: DemoState) -> str:
        seen.append(f"second saw {state.outputs['x']}")
        return "two\nlines"

    lines: list[str] = []
    run_demo(Settings(home=tmp_path), stages=[("a", first), ("b", second)], echo=lines.append)
    assert seen == ["first", "second saw 1"]
    assert lines[:5] == ["[1/2] a", "    one", "[2/2] b", "    two\n    lines", lines[4]]


def test_demo_command(cifar_archive: Path, monkeypatch: pytest.MonkeyPatch, scones_home: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCONES_CIFAR_SOURCE", str(cifar_archive))
    with pytest.raises(SystemExit) as exc:
        main(["demo"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "Staged 10 images" in out and (scones_home / "store" / "scones" / "dataset" / "dataset.json").is_file()
    with pytest.raises(SystemExit):
        main(["demo"])
    assert "Already staged 10 images" in capsys.readouterr().out
