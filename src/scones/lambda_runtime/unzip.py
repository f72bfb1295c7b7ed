"""Unpacking a deployment zip into its own folder, refusing members that would land outside it."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from scones.errors import WorkflowError


def safe_unzip(data: bytes, dest: Path) -> None:
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.infolist():
            target = (dest / member.filename).resolve()
            if os.path.commonpath([root, target]) != str(root):
                raise WorkflowError(f"Deployment zip member {member.filename!r} would land outside its folder")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(member))
