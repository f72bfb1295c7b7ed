"""``scones monitor download``: copy capture files to a local folder, keeping their key layout.

A file already present is skipped, so repeated downloads only fetch what is new:
capture files are never modified once written, and ours are written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.monitor.capture import locate_capture
from scones.progress import progress
from scones.store import atomic_write_bytes


@dataclass(frozen=True)
class DownloadResult:
    dest: Path
    copied: int
    skipped: int


def download_capture(source: str, dest: str | Path, *, show_progress: bool = True,
                     s3_client: Any | None = None) -> DownloadResult:
    store, files = locate_capture(source, s3_client=s3_client)
    root = Path(dest)
    copied = skipped = 0
    for capture in progress(files, enabled=show_progress, desc="download", unit="file"):
        target = root.joinpath(*capture.key.split("/"))
        if target.is_file():
            skipped += 1
            continue
        atomic_write_bytes(target, store.get_bytes(capture.key))
        copied += 1
    return DownloadResult(root, copied, skipped)
