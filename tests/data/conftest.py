"""Fixtures for the data tests: an archive server on loopback, and no waiting between download retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from archive_server import ArchiveServer, serve_archives


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    with serve_archives() as server:
        yield server


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scones.data.cifar.RETRY_BASE_DELAY", 0.0)
