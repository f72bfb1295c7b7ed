from __future__ import annotations

import io
import zipfile

import pytest

from scones.aws.package import build_function_zip
from scones.errors import WorkflowError
from scones.functions.catalog import SCONES_FUNCTIONS, function_info


@pytest.mark.parametrize("info", SCONES_FUNCTIONS, ids=lambda i: i.name)
def test_zip_holds_handler_and_helper_only(info) -> None:  # type: ignore[no-untyped-def]
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
