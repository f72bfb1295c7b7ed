"""Unpacking a deployment zip into its own folder, refusing members that would land outside it."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path, PurePosixPath

from scones.errors import WorkflowError


def escapes(member: str) -> bool:
    """Whether a member name would land outside the folder it is unpacked into (zip-slip): absolute, a drive,
    or climbing out with ``..``; a backslash counts as a separator, as Windows tools write it."""
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        return True
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def safe_unzip(data: bytes, dest: Path) -> None:
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.infolist():
            target = (dest / member.filename).resolve()
            if escapes(member.filename) or os.path.commonpath([root, target]) != str(root):
                raise WorkflowError(f"Deployment zip member {member.filename!r} would land outside its folder")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(member))
