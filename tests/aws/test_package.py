from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scones.aws.package import build_function_zip
from scones.errors import WorkflowError
from scones.functions.catalog import SCONES_FUNCTIONS, FunctionInfo, function_info


@pytest.mark.parametrize("info", SCONES_FUNCTIONS, ids=lambda i: i.name)
def test_zip_holds_handler_and_helper_only(info: FunctionInfo) -> None:
    data = build_function_zip(info.name)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        assert names == sorted(["scones/__init__.py", "scones/functions/__init__.py",
                                "scones/functions/helper.py", f"scones/functions/{info.module}.py"])
        for name in names:
            text = zf.read(name).decode()
            assert "import sagemaker" not in text and "from sagemaker" not in text
    assert build_function_zip(info.module) == data  # deterministic, and found by module name too
    assert info.handler == f"scones.functions.{info.module}.lambda_handler"


def test_unknown_function() -> None:
    with pytest.raises(WorkflowError, match="classifyImage"):
        function_info("classify")


def test_write_function_zips_writes_every_zip(tmp_path: Path) -> None:
    from scones.aws.package import write_function_zips

    names = [info.name for info in SCONES_FUNCTIONS]
    written = write_function_zips(tmp_path / "out", names)
    assert sorted(p.name for p in written) == sorted(f"{n}.zip" for n in names)
    for path, size in written.items():
        assert path.read_bytes() == build_function_zip(path.stem) and path.stat().st_size == size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)  # no temporaries


def test_write_function_zips_is_all_or_nothing(tmp_path: Path) -> None:
    """A zip that cannot be written (here a folder in its place) fails before any other zip is written."""
    from scones.aws.package import write_function_zips
    from scones.errors import StoreError

    names = [info.name for info in SCONES_FUNCTIONS]
    (tmp_path / f"{names[-1]}.zip").mkdir()
    with pytest.raises(StoreError, match="exists and is not a file"):
        write_function_zips(tmp_path, names)
    assert [p.name for p in tmp_path.iterdir()] == [f"{names[-1]}.zip"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="Cannot write the function zips to .*file/sub: Not a directory"):
        write_function_zips(tmp_path / "file" / "sub", names)
