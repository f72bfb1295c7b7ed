"""The gateway under uvicorn: in the foreground (``scones up``) or in a thread (tests, notebooks).

uvicorn handles SIGINT/SIGTERM: it stops accepting, answers the requests in
flight, then runs the gateway's shutdown (each service stops: running executions
end, captures are flushed).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

from scones.errors import SconesError
from scones.http_server import bind_socket

#: In-flight requests get this long to finish once a stop is asked for.
GRACEFUL_SHUTDOWN_SECONDS: Final = 10


class GatewayStartError(SconesError):
    """The gateway could not start (port taken, a service failed at start-up)."""


def _uvicorn_config(app: Any, host: str, port: int, log_level: str) -> Any:
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, lifespan="on", access_log=False, log_level=log_level,
                          timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, server_header=False,
                          date_header=True, h11_max_incomplete_event_size=64 * 1024)


def run_gateway(app: Any, *, host: str, port: int, log_level: str = "warning",
                on_ready: Callable[[int], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; ``on_ready(port)`` runs once the first request can be answered."""
    import uvicorn

    sock = bind_socket(host, port)
    bound = int(sock.getsockname()[1])
    server = uvicorn.Server(_uvicorn_config(app, host, bound, log_level))
    if on_ready is not None:
        _when_started(server, lambda: on_ready(bound))
    server.run(sockets=[sock])
    if not server.started:
        raise GatewayStartError("The gateway failed during start-up; see the log above")


def _when_started(server: Any, callback: Callable[[], None]) -> None:
    def watch() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.005)
        if server.started:
            callback()

    threading.Thread(target=watch, daemon=True, name="scones-up-ready").start()


@contextlib.contextmanager
def gateway_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0,
                      startup_timeout: float = 60.0) -> Iterator[str]:
    """Run the gateway in a thread of this process; yields its URL; stops it gracefully on exit."""
    import uvicorn

    sock = bind_socket(host, port)
    bound = int(sock.getsockname()[1])
    server = uvicorn.Server(_uvicorn_config(app, host, bound, "warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="scones-up", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise GatewayStartError("The gateway did not start; see the log above")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
