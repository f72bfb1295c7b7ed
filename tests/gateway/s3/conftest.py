"""The real gateway with the S3 service, under uvicorn in a background thread, and boto3 pointed at it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from scones.gateway.app import Gateway
from scones.gateway.routing import Service
from scones.gateway.s3 import S3Service

HERE = Path(__file__).parent
REPO = HERE.parents[2]


@dataclass
class RunningS3:
    url: str
    port: int
    store: Path
    state: Path
    service: S3Service


@contextlib.contextmanager
def running_s3(store: Path, state: Path, credentials: Mapping[str, str] | None = None,
               tls: tuple[Path, Path] | None = None) -> Iterator[RunningS3]:
    """The gateway serving S3 on a free loopback port, in this process, until the block ends
    (over TLS when ``tls`` gives a certificate and key file)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    service = S3Service(store, state_dir=state, credentials=credentials)
    server = uvicorn.Server(uvicorn.Config(Gateway({Service.S3: service}), lifespan="on", log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=5,
                                           ssl_certfile=tls and str(tls[0]),
                                           ssl_keyfile=tls and str(tls[1])))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the S3 gateway did not start")
        time.sleep(0.01)
    try:
        yield RunningS3(f"{'https' if tls else 'http'}://127.0.0.1:{port}", port, store, state, service)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[RunningS3]:
    with running_s3(tmp_path / "store", tmp_path / "state") as running:
        yield running


def client_for(url: str, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}, **config))


@pytest.fixture
def client(s3: RunningS3) -> Any:
    return client_for(s3.url)


@pytest.fixture
def resource(s3: RunningS3) -> Any:
    import boto3

    return boto3.resource("s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")


@pytest.fixture
def bucket(client: Any) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    """The parsed error of a call that must fail: its code, message, status and whole response."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return {"Code": exc.response["Error"].get("Code"), "Message": exc.response["Error"].get("Message"),
                "Status": exc.response["ResponseMetadata"]["HTTPStatusCode"], "Error": exc.response["Error"]}
    raise AssertionError("the call did not fail")


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    pid: int


@contextlib.contextmanager
def server_process(store: Path, state: Path, ready: Path) -> Iterator[ServerProcess]:
    """The S3 gateway in a child process (to SIGKILL it or measure its memory)."""
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, str(HERE / "server_main.py"), str(store), str(state), str(ready)],
                            env=env)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the S3 server process did not start")
            time.sleep(0.02)
        yield ServerProcess(proc, f"http://127.0.0.1:{ready.read_text()}", proc.pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
