"""Listening sockets for the servers scones runs under uvicorn (``scones serve``, ``scones up``)."""

from __future__ import annotations

import socket

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
