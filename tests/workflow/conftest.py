"""A real ``scones serve`` of the tiny ONNX model, and a small staged dataset in the test's store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scones.config import Settings
from scones.testing import tiny_model_tarball

ENDPOINT_NAME = "scones-endpoint"
#: Colours whose mean RGB the tiny model maps to different confidences.
COLOURS = [(250, 10, 10), (10, 250, 10), (10, 10, 250), (128, 128, 128), (240, 240, 20), (20, 200, 220),
           (60, 60, 60), (200, 120, 40)]


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.tar.gz"
    path.write_bytes(tiny_model_tarball())
    return path


@pytest.fixture(scope="session")
def endpoint(tiny_model_path: Path) -> Iterator[str]:
    from scones.serve import running_endpoint

    with running_endpoint(str(tiny_model_path), endpoint_name=ENDPOINT_NAME, subprocess=True) as ep:
        yield ep.url


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, format="PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class Staged:
    settings: Settings
    keys: list[str]
    labels: dict[str, int]
    root: Path


@pytest.fixture
def staged(scones_home: Path) -> Staged:
    settings = Settings.from_env()
    root = settings.store_root / settings.bucket / "dataset"
    (root / "test").mkdir(parents=True)
    keys, labels, rows = [], {}, []
    for i, colour in enumerate(COLOURS):
        name = f"img_{i:03d}.png"
        (root / "test" / name).write_bytes(png(colour))
        key = f"dataset/test/{name}"
        keys.append(key)
        labels[key] = i % 2
        rows.append(f"{i}\t{i % 2}\t{name}")
    (root / "test.lst").write_text("\n".join(rows) + "\n")
    (root / "dataset.json").write_text('{"classes": ["bicycle", "motorcycle"]}\n')
    return Staged(settings=settings, keys=keys, labels=labels, root=settings.store_root)


def endpoint_probabilities(url: str, image: bytes) -> list[float]:
    """What the endpoint itself says about an image (the reference the workflow must agree with)."""
    import json

    import boto3

    client = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    body = client.invoke_endpoint(EndpointName=ENDPOINT_NAME, ContentType="image/png", Body=image)["Body"].read()
    return [float(p) for p in json.loads(body)]
