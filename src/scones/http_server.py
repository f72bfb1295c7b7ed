"""Listening sockets for the servers scones runs under uvicorn (``scones serve``, ``scones up``)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from scones.errors import SconesError


class ListenError(SconesError):
    """The address cannot be listened on (taken, not local, not allowed)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), ready for uvicorn to listen on.

    Made here rather than by uvicorn's ``bind_socket`` because that one is created
    with protocol 0, and asyncio only sets TCP_NODELAY on sockets whose protocol is
    IPPROTO_TCP: without it every response (headers and body are two writes)
    waits for a delayed ACK.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ListenError(f"Cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ListenError(f"Cannot listen on {host}:{port} ({exc.strerror or exc})",
                          hint="pass another --port, or 0 for any free port") from exc
    sock.set_inheritable(True)  # worker processes (--workers) accept on it too
    return sock


@contextlib.contextmanager
def running_in_thread(server: Any, sock: socket.socket, *, name: str, startup_timeout: float = 60.0) -> Iterator[None]:
    """Run a ``uvicorn.Server`` on ``sock`` from a thread of this process until the block ends, then stop it
    gracefully (requests in flight answered, the app's shutdown run). ``ListenError`` when it does not start."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise ListenError(f"The server {name} did not start; see the log above")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
