"""Fixtures for the endpoint: a real tiny model on disk, images, an in-process server, a boto3 client."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.serve.capture import CaptureConfig
from scones.serve.config import ServeConfig
from scones.serve.server import ThreadedServer, serve_in_thread
from scones.testing import tiny_model_tarball

ENDPOINT = "test-endpoint"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.tar.gz"
    path.write_bytes(tiny_model_tarball())
    return path


def _image_bytes(fmt: str = "PNG", size: tuple[int, int] = (32, 32), color: tuple[int, ...] = (200, 30, 40),
                mode: str = "RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def make_image() -> Any:
    """``make_image(fmt, size, color, mode)`` -> encoded image bytes."""
    return _image_bytes


@pytest.fixture
def png() -> bytes:
    return _image_bytes("PNG")


@pytest.fixture
def jpeg() -> bytes:
    return _image_bytes("JPEG", size=(64, 48), color=(10, 200, 40))


@pytest.fixture
def capture_dir(tmp_path: Path) -> Path:
    return tmp_path / "capture"


@pytest.fixture
def server(tiny_model: Path, capture_dir: Path) -> Iterator[ThreadedServer]:
    config = ServeConfig(model=str(tiny_model), port=0, endpoint_name=ENDPOINT, log_level="warning",
                         capture=CaptureConfig(str(capture_dir), flush_interval=0.05))
    with serve_in_thread(config) as running:
        yield running


@pytest.fixture
def runtime_client() -> Any:
    """``runtime_client(url)`` -> a boto3 sagemaker-runtime client pointed at a local endpoint."""
    return _runtime_client


def _runtime_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))
