"""The real gateway, serving Step Functions on a free loopback port, for tests that drive it with boto3."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.executions import ExecutionRecords, ExecutionService
from scones.executions.machines import StateMachineRegistry
from scones.gateway.app import Gateway
from scones.gateway.routing import Service
from scones.gateway.stepfunctions import StepFunctionsService
from scones.store import LocalStore

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/test-sfn-role"


@dataclass
class Running:
    url: str
    service: StepFunctionsService
    executions: ExecutionService
    server: Any

    def client(self, **config: Any) -> Any:
        """A boto3 client of this gateway; StartSyncExecution's ``sync-`` host prefix is off, as every client
        of a loopback endpoint needs (``AWS_DISABLE_HOST_PREFIX_INJECTION=true`` does the same)."""
        import boto3
        from botocore.config import Config

        config.setdefault("inject_host_prefix", False)
        return boto3.client("stepfunctions", endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config))


def execution_service(home: Path, **kwargs: Any) -> ExecutionService:
    """The way ``scones up`` keeps state: executions under the bucket, machines and the index under state/."""
    records = ExecutionRecords(LocalStore(home / "bucket" / "executions"),
                               index_path=home / "state" / "executions.sqlite")
    return ExecutionService(records=records, machines=StateMachineRegistry(home / "state" / "state-machines"),
                            **kwargs)


@contextlib.contextmanager
def running_gateway(home: Path, *, shutdown_grace: float = 0.5, **kwargs: Any) -> Iterator[Running]:
    """Serve until the block ends; leaving it is ``scones up`` stopping (the service's shutdown runs)."""
    import uvicorn

    executions = execution_service(home, **kwargs)
    service = StepFunctionsService(executions, shutdown_grace=shutdown_grace)
    config = uvicorn.Config(Gateway({Service.STEP_FUNCTIONS: service}), lifespan="on", log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    # IPPROTO_TCP, so asyncio sets TCP_NODELAY (see scones.serve.server._bind).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="test-gateway")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{port}", service, executions, server)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()
