"""Moto-backed helpers and fixtures for the AWS deployer tests.

Deployments use the real function zips (``scones.aws.package``) and the real
workflow definitions; the recorded console export in ``aws-recorded/`` is kept
for the tests that check substitution on what AWS itself produced.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scones.aws.deploy import DeployOptions
from scones.aws.session import AwsClients

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "scones-test-bucket"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/scones-serve:1"
MOTO_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass(frozen=True)
class Inputs:
    dataset: Path
    model: Path

    def options(self, **overrides: Any) -> DeployOptions:
        values: dict[str, Any] = {"bucket": BUCKET, "dataset_uri": str(self.dataset), "model_uri": str(self.model),
                                  "image_uri": IMAGE, "threshold": 0.9}
        values.update(overrides)
        return DeployOptions(**values)


def make_inputs(root: Path) -> Inputs:
    """A tiny staged dataset (real PNGs, .lst manifests, dataset.json) and a real tiny model.tar.gz."""
    from PIL import Image

    from scones.data.dataset import DATASET_JSON, ManifestEntry, build_dataset_json, format_lst, manifest_key
    from scones.testing import tiny_model_tarball

    dataset = root / "dataset"
    entries: dict[str, list[ManifestEntry]] = {"train": [], "test": []}
    for split, label, color in (("train", 0, (200, 30, 30)), ("train", 1, (30, 30, 200)), ("test", 0, (90, 90, 90))):
        path = dataset / split / f"{split}_{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), color).save(path)
        entries[split].append(ManifestEntry(len(entries[split]), label, path.name))
    for split, rows in entries.items():
        (dataset / manifest_key(split)).write_text(format_lst(rows))
    doc = build_dataset_json(["bicycle", "motorcycle"], entries, source_uri="synthetic", source_kind="folder",
                             source_md5="0" * 32)
    (dataset / DATASET_JSON).write_text(json.dumps(doc))
    model = root / "model"
    model.mkdir()
    (model / "model.tar.gz").write_bytes(tiny_model_tarball())
    return Inputs(dataset=dataset, model=model)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return make_inputs(tmp_path_factory.mktemp("aws-inputs"))


def no_sleep(_seconds: float) -> None:
    return None


def deploy_kwargs() -> dict[str, Any]:
    """Real zips and definitions (the defaults), no progress bars, no waiting."""
    return {"show_progress": False, "sleep": no_sleep}


@contextlib.contextmanager
def _moto_server() -> Iterator[str]:
    """A real moto server over HTTP on a free loopback port, for the same deployment over the wire."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {k: os.environ.get(k) for k in ("MOTO_PORT",)}
    # Moto's Step Functions interpreter calls Lambda back through this port.
    os.environ["MOTO_PORT"] = str(port)
    url = f"http://{host}:{port}"
    _post(f"{url}/moto-api/config", MOTO_CONFIG)
    try:
        yield url
    finally:
        # The server shares this process's moto configuration: put the defaults back.
        _post(f"{url}/moto-api/config", {"lambda": {"use_docker": True},
                                         "stepfunctions": {"execute_state_machine": False}})
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _post(url: str, payload: Any) -> None:
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        response.read()


def queue_lambda_results(clients_or_url: Any, results: list[Any]) -> None:
    """Script what moto's docker-free Lambda returns, in order (in-process, or over HTTP)."""
    payloads = [json.dumps(r) for r in results]
    if isinstance(clients_or_url, str):
        _post(f"{clients_or_url}/moto-api/static/lambda-simple/response", {"results": payloads, "region": REGION})
        return
    from moto.awslambda_simple.models import lambda_simple_backends

    lambda_simple_backends[ACCOUNT][REGION].lambda_simple_results_queue.extend(payloads)


@dataclass(frozen=True)
class Backend:
    """Clients bound to one moto flavour, and the handle that scripts its Lambda answers."""

    kind: str
    clients: AwsClients
    session: Any
    handle: str | None  # the server URL over HTTP, None in-process
    endpoint_url: str | None = None

    def queue(self, results: list[Any]) -> None:
        queue_lambda_results(self.handle if self.handle else self.clients, results)

    def client(self, service: str) -> Any:
        kwargs = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
        return self.session.client(service, region_name=REGION, **kwargs)


@contextlib.contextmanager
def moto_backend(kind: str) -> Iterator[Backend]:
    """``mock_aws`` in this process, or a moto server reached over HTTP."""
    import boto3

    if kind == "mock_aws":
        from moto import mock_aws

        with mock_aws(config=MOTO_CONFIG):
            session = boto3.session.Session(region_name=REGION)
            clients = AwsClients.from_session(session)
            clients.s3.create_bucket(Bucket=BUCKET)
            yield Backend(kind, clients, session, None)
        return
    with _moto_server() as url:
        session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing",
                                         aws_secret_access_key="testing")
        clients = AwsClients.from_session(session, endpoint_url=url)
        clients.s3.create_bucket(Bucket=BUCKET)
        yield Backend(kind, clients, session, url, url)
