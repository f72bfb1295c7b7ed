"""Shared fixtures: where the shared data lives, an isolated SCONES_HOME, and S3 through moto."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCONES_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The read-only data beside the repository (skips when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set SCONES_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def scones_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SCONES_HOME, so nothing leaks into ./.scones."""
    home = tmp_path / "scones-home"
    monkeypatch.setenv("SCONES_HOME", str(home))
    monkeypatch.setenv("SCONES_PROGRESS", "false")
    monkeypatch.delenv("SCONES_CIFAR_SOURCE", raising=False)
    return home


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, and no reading of the developer's own AWS configuration."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server on a free loopback port, shared by this worker's tests (buckets are unique)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def new_bucket(client: Any) -> str:
    """A fresh bucket with a unique name (the moto server is shared by a worker's tests)."""
    bucket = f"scones-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def s3_inprocess(aws_env: None) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3_server(aws_env: None, moto_endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture
def make_bucket() -> Any:
    """``new_bucket`` as a fixture, for test modules that cannot import conftest."""
    return new_bucket


def _cifar_factory() -> Any:
    """tests/data/cifar_factory.py, importable from any test folder (one module, however it is reached)."""
    if "cifar_factory" not in sys.modules:
        spec = importlib.util.spec_from_file_location("cifar_factory",
                                                      REPO_ROOT / "tests" / "data" / "cifar_factory.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["cifar_factory"] = module
        spec.loader.exec_module(module)
    return sys.modules["cifar_factory"]


@pytest.fixture
def cifar_archive(tmp_path: Path) -> Path:
    """A small synthetic CIFAR-100 archive in the official layout: 3 train + 2 test rows per class of
    apple, bicycle, bus, motorcycle, pickup_truck and sweet_pepper."""
    factory = _cifar_factory()
    return factory.write_archive(tmp_path / "cifar-src" / "cifar-100-python.tar.gz", factory.make_cifar())
