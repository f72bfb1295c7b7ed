"""Moto-backed helpers and fixtures for the AWS deployer tests: inputs, stand-ins for parts still being written, and AWS itself.

``scones.aws.package`` and the workflow definitions are written on other
branches; until they land, ``function_zip`` builds a zip in the agreed layout
(handler module at the root plus a helper) and ``load_definition`` returns the
real console export in ``aws-recorded/stepfunction.json``. Once they exist the
fixtures use them, so these tests check the real thing without edits.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import types
import zipfile
from collections.abc import Callable, Iterator
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
# Same lookup as the shared_data fixture in tests/conftest.py.
SHARED_DATA = Path(os.environ.get("SCONES_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
RECORDED_DEFINITION = SHARED_DATA / "aws-recorded" / "stepfunction.json"
MOTO_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

_MODULES = {"serializeImageData": "serialize_image_data", "classifyImage": "classify_image",
            "filterInferences": "filter_inferences"}


def stand_in_zip(name: str) -> bytes:
    """A deterministic zip in the agreed layout: ``<module>.py`` with ``lambda_handler`` and a helper."""
    module = _MODULES[name]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, text in ((f"{module}.py", "import scones_lambda_helpers\n\n\ndef lambda_handler(event, context):\n"
                                              "    return scones_lambda_helpers.respond(event)\n"),
                             ("scones_lambda_helpers.py", "def respond(event):\n    return event\n")):
            zf.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def build_zip() -> Callable[[str], bytes]:
    try:
        from scones.aws.package import build_function_zip
    except ModuleNotFoundError:
        return stand_in_zip
    return build_function_zip  # pragma: no cover - once the functions branch has landed


def recorded_definition() -> dict[str, Any]:
    if not RECORDED_DEFINITION.is_file():
        pytest.skip(f"recorded definition not found at {RECORDED_DEFINITION} (set SCONES_SHARED_DATA)")
    return dict(json.loads(RECORDED_DEFINITION.read_text()))


def definition_loader() -> Callable[[str], dict[str, Any]]:
    from scones.aws.definitions import load_definition
    from scones.errors import WorkflowError

    try:
        load_definition("scones")
        load_definition("scones-batch")
    except WorkflowError:
        recorded = recorded_definition()
        return lambda stem: json.loads(json.dumps(recorded))
    return load_definition  # pragma: no cover - once the definitions have landed


@pytest.fixture
def install_stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI (which imports ``scones.aws.package`` itself) use the stand-ins while needed."""
    import scones.aws.definitions as asl

    if "scones.aws.package" not in sys.modules:
        try:
            import scones.aws.package  # noqa: F401
        except ModuleNotFoundError:
            fake = types.ModuleType("scones.aws.package")
            fake.build_function_zip = stand_in_zip  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, "scones.aws.package", fake)
    monkeypatch.setattr(asl, "load_definition", definition_loader())


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

    from scones.testing import tiny_model_tarball

    dataset = root / "dataset"
    lines: dict[str, list[str]] = {"train": [], "test": []}
    for split, label, color in (("train", 0, (200, 30, 30)), ("train", 1, (30, 30, 200)), ("test", 0, (90, 90, 90))):
        path = dataset / split / f"{split}_{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), color).save(path)
        lines[split].append(f"{len(lines[split])}\t{label}\t{path.name}")
    for split, rows in lines.items():
        (dataset / f"{split}.lst").write_text("\n".join(rows) + "\n")
    (dataset / "dataset.json").write_text(json.dumps({"classes": ["bicycle", "motorcycle"]}))
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
    return {"build_zip": build_zip(), "load_definition": definition_loader(), "show_progress": False,
            "sleep": no_sleep}


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
