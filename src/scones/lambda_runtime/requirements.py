"""A function's ``requirements.txt``, installed once into a cache and put on that function's path.

``sam build`` reads ``requirements.txt`` in a function's folder and installs it
beside the code; scones installs it once per distinct file with the virtual
environment's own pip (``pip install --target``) into ``<cache>/<sha256>``, the
hash taken over the file and this interpreter's version, so an unchanged file
installs nothing on the next run. A requirement given by local path is not
hashed by content: change the file (or clear the cache folder) after changing
such a package. The install goes to a temporary folder renamed into place when
complete, so a failed or interrupted install leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

from scones.errors import UsageError

REQUIREMENTS_FILE: Final = "requirements.txt"
#: The cache folder's name under ``SCONES_HOME/cache`` (the caller may give another folder).
CACHE_FOLDER: Final = "lambda-deps"
#: Lines of pip's output quoted when an install fails.
QUOTED_LINES: Final = 12

Progress = Callable[[str], None]


class RequirementsError(UsageError):
    """A ``requirements.txt`` that pip could not install."""


def requirements_of(folder: Path) -> Path | None:
    """The folder's ``requirements.txt`` when it asks for anything (comments and blank lines ask for nothing)."""
    path = folder / REQUIREMENTS_FILE
    if not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise RequirementsError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    return path if any(line.split("#", 1)[0].strip() for line in lines) else None


def cache_key(requirements: Path) -> str:
    digest = hashlib.sha256(f"{sys.implementation.cache_tag}\n".encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()


def install(requirements: Path, cache: Path, *, function: str, progress: Progress | None = None) -> Path:
    """The folder holding ``requirements``' packages, installed now unless the cache already has them."""
    cache, requirements = cache.absolute(), requirements.absolute()  # pip runs in the requirements' folder
    target = cache / cache_key(requirements)
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    (progress or _stderr)(f"installing {requirements} for {function} (once: kept in {target})")
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name[:16]}-", dir=cache))
    try:
        command = [sys.executable, "-m", "pip", "install", "--target", str(partial), "--requirement",
                   str(requirements), "--disable-pip-version-check", "--no-input", "--quiet"]
        try:
            done = subprocess.run(command, cwd=requirements.parent, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise RequirementsError(f"Cannot run pip to install {requirements}: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr.strip() or done.stdout.strip()).splitlines()[-QUOTED_LINES:]
            raise RequirementsError(
                f"Installing {requirements} (function {function}) failed, pip exited with {done.returncode}:\n    "
                + "\n    ".join(output),
                hint=f"fix {requirements} (pip install -r {requirements} shows the same error); "
                     "nothing was kept in the cache")
        try:
            os.rename(partial, target)
        except OSError:
            if not target.is_dir():  # not another scones process that finished the same install first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
