"""Deployment zips for the Scones Lambda functions: one handler, the helper, nothing else.

The zip keeps the package layout (``scones/functions/<module>.py``) so the
handler file is byte-for-byte the one tested locally; Lambda's ``Handler`` is
``FunctionInfo.handler``. The zip is deterministic (sorted entries, fixed
timestamps and modes), so an unchanged function builds the same bytes and a
deploy can skip it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Final

from scones.functions.catalog import HELPER_MODULE, function_info

FUNCTIONS_DIR: Final = Path(__file__).resolve().parents[1] / "functions"
ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
PACKAGE_INIT: Final = '"""Only the Scones Lambda handler packed in this zip; see scones.aws.package."""\n'


def function_zip_members(name: str) -> dict[str, bytes]:
    """The files of the function's zip, by archive name."""
    info = function_info(name)
    return {
        "scones/__init__.py": PACKAGE_INIT.encode(),
        "scones/functions/__init__.py": (FUNCTIONS_DIR / "__init__.py").read_bytes(),
        f"scones/functions/{HELPER_MODULE}.py": (FUNCTIONS_DIR / f"{HELPER_MODULE}.py").read_bytes(),
        f"scones/functions/{info.module}.py": (FUNCTIONS_DIR / f"{info.module}.py").read_bytes(),
    }


def build_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arcname in sorted(members):
            entry = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, members[arcname])
    return buf.getvalue()


def build_function_zip(name: str) -> bytes:
    """The deployment zip of one Scones function (``classifyImage`` or ``classify_image``)."""
    return build_zip(function_zip_members(name))


def write_function_zips(folder: Path, names: tuple[str, ...] | list[str]) -> dict[Path, int]:
    """Build every named function's zip and write them into ``folder``, all or none: each is checked,
    then written under a temporary name, and only when every write succeeded are they renamed.
    Returns each written path with its size."""
    import os
    import tempfile

    from scones.errors import StoreError

    zips = {folder / f"{name}.zip": build_function_zip(name) for name in names}
    hint = "choose a writable --out folder"
    staged: dict[Path, str] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in zips:
            if path.exists() and not path.is_file():
                raise StoreError(f"Cannot write {path}: it exists and is not a file", hint=hint)
        for path, data in zips.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
            staged[path] = tmp
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
        for path, tmp in staged.items():
            os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"Cannot write the function zips to {folder}: {exc.strerror or exc}", hint=hint) from exc
    finally:
        for tmp in staged.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    return {path: len(data) for path, data in zips.items()}
