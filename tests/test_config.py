from __future__ import annotations

from pathlib import Path

import pytest

from scones.config import DEFAULT_CIFAR_URL, Settings
from scones.errors import ConfigError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.home == Path(".scones")
    assert s.cifar_source == DEFAULT_CIFAR_URL
    assert s.progress is True


def test_env_overrides(tmp_path: Path) -> None:
    s = Settings.from_env({"SCONES_HOME": str(tmp_path), "SCONES_PROGRESS": "off"})
    assert s.home == tmp_path and s.progress is False
    assert s.store_root == tmp_path / "store"


def test_bad_bool_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="Config 'SCONES_PROGRESS' has value 'maybe'. Not a valid bool"):
        Settings.from_env({"SCONES_PROGRESS": "maybe"})
