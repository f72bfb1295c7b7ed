"""``scones monitor download``: copies keep the key layout, and the destinations that would hurt are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.errors import StoreError, UsageError
from scones.monitor.download import download_capture

KEY = "AllTraffic/2025/10/04/08/44-11-981-04c92c7e.jsonl"


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "capture" / KEY
    path.parent.mkdir(parents=True)
    path.write_text('{"captureData": {}}\n')
    return tmp_path / "capture"


def test_copies_once_then_skips(capture: Path, tmp_path: Path) -> None:
    first = download_capture(str(capture), tmp_path / "dl", show_progress=False)
    again = download_capture(str(capture), tmp_path / "dl", show_progress=False)
    assert (first.copied, first.skipped, again.copied, again.skipped) == (1, 0, 0, 1)
    assert (tmp_path / "dl" / KEY).read_bytes() == (capture / KEY).read_bytes()


def test_destination_inside_the_source_is_refused(capture: Path) -> None:
    with pytest.raises(UsageError, match="lies inside --from"):
        download_capture(str(capture), capture / "AllTraffic", show_progress=False)


def test_empty_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must not be empty"):
        download_capture("", tmp_path / "dl", show_progress=False)


def test_unwritable_destination_is_a_store_error(capture: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="Cannot write"):
        download_capture(str(capture), tmp_path / "file" / "dl", show_progress=False)
