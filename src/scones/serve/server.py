"""Running the app under uvicorn: in the foreground (the CLI, the container) or in a thread (tests).

The socket is bound here, before uvicorn starts, so port 0 works and the real
port is known (and written to ``ready_file`` for a parent process). uvicorn
handles SIGTERM/SIGINT: it stops accepting, finishes the requests in flight,
then runs the app's shutdown, which drains Data Capture.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from scones.errors import SconesError
from scones.http_server import ListenError, bind_socket, running_in_thread
from scones.serve.app import CONFIG_ENV, Endpoint, build_app
from scones.serve.config import ServeConfig
from scones.serve.process import end_with_parent, return_large_blocks_to_the_os
from scones.store import atomic_write_bytes

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

LOG = logging.getLogger(__name__)

#: Finish in-flight requests within this, so the capture drain fits before SageMaker's SIGKILL (30 s;
#: docs/aws-facts.md, SageMaker hosting container).
GRACEFUL_SHUTDOWN_SECONDS: Final = 15


class ServerStartError(SconesError):
    """The endpoint could not start (model, port, capture destination...)."""


def _uvicorn_config(app: Starlette | str, config: ServeConfig, *, factory: bool = False,
                    workers: int | None = None) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(app, host=config.host, port=config.port, lifespan="on", access_log=False,
                          log_level=config.log_level, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                          server_header=False, factory=factory, workers=workers)


def _bind(config: ServeConfig) -> socket.socket:
    try:
        return bind_socket(config.host, config.port)
    except ListenError as exc:
        raise ServerStartError(exc.message, hint=exc.hint) from exc


def _write_ready_file(path: str | Path | None, sock: socket.socket) -> int:
    port = int(sock.getsockname()[1])
    if path is not None:
        atomic_write_bytes(Path(path), json.dumps({"port": port, "pid": os.getpid()}).encode())
    return port


def run_server(config: ServeConfig, *, ready_file: str | Path | None = None) -> None:
    """Serve until SIGTERM/SIGINT. Loads the model first, so a bad model fails before any socket listens."""
    import uvicorn

    return_large_blocks_to_the_os()
    end_with_parent()
    endpoint = Endpoint(config)
    endpoint.prepare()
    if config.workers == 1:
        uv_config = _uvicorn_config(build_app(config, endpoint=endpoint), config)
        server = uvicorn.Server(uv_config)
        sock = _bind(config)
        port = _write_ready_file(ready_file, sock)
        LOG.info("serving %s on http://%s:%d", config.endpoint_name, config.host, port)
        server.run(sockets=[sock])
        if not server.started:
            raise ServerStartError("The endpoint failed during start-up; see the log above")
        return
    from uvicorn.supervisors import Multiprocess

    # Each worker process loads its own copy; the one loaded above only proved the model is usable.
    del endpoint
    os.environ[CONFIG_ENV] = config.to_json()
    uv_config = _uvicorn_config("scones.serve.app:app_from_env", config, factory=True, workers=config.workers)
    sock = _bind(config)
    _write_ready_file(ready_file, sock)
    Multiprocess(uv_config, sockets=[sock]).run()


@dataclass(frozen=True)
class ThreadedServer:
    url: str
    endpoint: Endpoint


@contextlib.contextmanager
def serve_in_thread(config: ServeConfig, *, endpoint: Endpoint | None = None,
                    startup_timeout: float = 60.0) -> Iterator[ThreadedServer]:
    """Run the real server in a thread of this process (tests, notebooks); stop it gracefully on exit."""
    import uvicorn

    if config.workers != 1:
        raise ServerStartError("An in-process endpoint runs one worker; use subprocess=True for --workers")
    ep = endpoint or Endpoint(config)
    ep.prepare()
    uv_config = _uvicorn_config(build_app(config, endpoint=ep), config)
    server = uvicorn.Server(uv_config)
    sock = _bind(config)
    port = int(sock.getsockname()[1])
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(running_in_thread(server, sock, name="scones-serve", startup_timeout=startup_timeout))
    except ListenError as exc:
        raise ServerStartError("The in-process endpoint did not start; see the log above") from exc
    with stack:
        yield ThreadedServer(url=f"http://{config.host}:{port}", endpoint=ep)
