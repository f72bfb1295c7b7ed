from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from scones.errors import UsageError
from scones.functions.catalog import SCONES_FUNCTIONS
from scones.functions.local import scones_functions


@pytest.mark.parametrize("threshold", [0.0, 1.5, -0.1])
def test_scones_functions_refuse_bad_threshold(tmp_path: Path, threshold: float) -> None:
    with pytest.raises(UsageError, match="threshold must be in"):
        scones_functions(store_root=tmp_path, threshold=threshold)


def test_scones_functions_follow_the_catalogue_and_wire_the_local_store_and_endpoint(tmp_path: Path) -> None:
    configs = scones_functions(store_root=tmp_path, endpoint_url="http://127.0.0.1:9", endpoint_name="ep",
                               threshold=0.5, packaged=True)
    assert [(c.name, c.handler, c.timeout_seconds, c.memory_mb) for c in configs] == \
        [(i.name, i.handler, float(i.timeout_seconds), i.memory_mb) for i in SCONES_FUNCTIONS]
    env = {c.name: dict(c.environment) for c in configs}
    assert env["serializeImageData"] == {"SCONES_LOCAL_STORE_ROOT": str(tmp_path.resolve())}
    assert env["classifyImage"]["ENDPOINT_NAME"] == "ep"
    assert env["classifyImage"]["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] == "http://127.0.0.1:9"
    assert env["filterInferences"] == {"THRESHOLD": "0.5"}
    for config in configs:
        assert config.package is not None
        names = zipfile.ZipFile(BytesIO(config.package)).namelist()
        assert "scones/functions/local.py" not in names and "scones/functions/catalog.py" not in names
