"""``scones monitor download``: copy capture files to a local folder, keeping their key layout.

A file already present is skipped, so repeated downloads only fetch what is new:
capture files are never modified once written, and ours are written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.errors import UsageError
from scones.monitor.capture import locate_capture
from scones.progress import progress
from scones.store import LocalStore, is_remote


@dataclass(frozen=True)
class DownloadResult:
    dest: Path
    copied: int
    skipped: int


def download_capture(source: str, dest: str | Path, *, show_progress: bool = True,
                     s3_client: Any | None = None) -> DownloadResult:
    if not str(source).strip() or not str(dest).strip():
        raise UsageError("--from and --to must not be empty",
                         hint="e.g. --from s3://bucket/data_capture --to ./capture")
    root = Path(dest).absolute()
    if not is_remote(str(source)):
        origin = Path(str(source).removeprefix("file://")).absolute()
        if root == origin or origin in root.parents:
            raise UsageError(f"--to {dest} lies inside --from {source}: a later report would count the copies twice",
                             hint="download to a folder outside the capture data")
    store, files = locate_capture(source, s3_client=s3_client)
    out = LocalStore(root)
    copied = skipped = 0
    for capture in progress(files, enabled=show_progress, desc="download", unit="file"):
        if out.exists(capture.key):
            skipped += 1
            continue
        out.put_bytes(capture.key, store.get_bytes(capture.key))
        copied += 1
    return DownloadResult(root, copied, skipped)
