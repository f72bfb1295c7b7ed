"""Shared fixtures: where the shared data lives, and an isolated SCONES_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCONES_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The read-only data beside the repository (skips when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set SCONES_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def scones_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SCONES_HOME, so nothing leaks into ./.scones."""
    home = tmp_path / "scones-home"
    monkeypatch.setenv("SCONES_HOME", str(home))
    monkeypatch.setenv("SCONES_PROGRESS", "false")
    monkeypatch.delenv("SCONES_CIFAR_SOURCE", raising=False)
    return home
