"""The gateway under uvicorn: in the foreground (``scones up``) or in a thread (tests, notebooks).

The socket is bound before the services are built, so the services know the
gateway's own URL (the functions call it back) even when the port is 0. uvicorn
handles SIGINT/SIGTERM: it stops accepting, answers the requests in flight, then
runs the gateway's shutdown (each service stops: running executions end,
captures are flushed).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

from scones.errors import SconesError
from scones.http_server import ListenError, bind_socket, running_in_thread

#: In-flight requests get this long to finish once a stop is asked for.
GRACEFUL_SHUTDOWN_SECONDS: Final = 10


class GatewayStartError(SconesError):
    """The gateway could not start (port taken, a service failed at start-up)."""


def _server(app: Any, sock: socket.socket, log_level: str) -> Any:
    import uvicorn

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, lifespan="on", access_log=False, log_level=log_level,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, server_header=False)
    return uvicorn.Server(config)


def serve_socket(app: Any, sock: socket.socket, *, log_level: str = "warning",
                 on_ready: Callable[[], None] | None = None) -> None:
    """Serve on a bound socket until SIGINT/SIGTERM; ``on_ready`` runs once the first request can be answered."""
    server = _server(app, sock, log_level)
    if on_ready is not None:
        _when_started(server, on_ready)
    with _signals_end_serving():
        server.run(sockets=[sock])
    if not server.started:
        raise GatewayStartError("The gateway failed during start-up; see the log above")


@contextlib.contextmanager
def _signals_end_serving() -> Iterator[None]:
    """For ``scones up``, Ctrl-C and SIGTERM are the way to stop: a clean end, not an interruption. uvicorn handles
    them while it serves and raises them again once it has stopped; here that second time does nothing."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    quiet = {sig: signal.signal(sig, lambda signum, frame: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, previous in quiet.items():
            signal.signal(sig, previous)


def _when_started(server: Any, callback: Callable[[], None]) -> None:
    def watch() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.005)
        if server.started:
            callback()

    threading.Thread(target=watch, daemon=True, name="scones-up-ready").start()


@contextlib.contextmanager
def serving_in_thread(app: Any, sock: socket.socket, *, startup_timeout: float = 60.0) -> Iterator[None]:
    """Serve on a bound socket from a thread of this process; stop gracefully on exit."""
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(running_in_thread(_server(app, sock, "warning"), sock, name="scones-up",
                                              startup_timeout=startup_timeout))
    except ListenError as exc:
        raise GatewayStartError("The gateway did not start; see the log above") from exc
    with stack:
        yield


@contextlib.contextmanager
def gateway_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` in a thread on ``host:port`` (0: any free port); yields its URL."""
    sock = bind_socket(host, port)
    with serving_in_thread(app, sock):
        yield f"http://{host}:{sock.getsockname()[1]}"
