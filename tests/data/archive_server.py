"""An HTTP server on a free loopback port that serves test archives, with failures on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ArchiveServer:
    """``files`` maps a path to bytes; ``fail_next`` lists statuses (or "truncate") for the next requests."""

    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    fail_next: list[int | str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


@contextmanager
def serve_archives() -> Iterator[ArchiveServer]:
    state: ArchiveServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            failure = state.fail_next.pop(0) if state.fail_next else None
            body = state.files.get(self.path)
            if isinstance(failure, int):
                self.send_error(failure)
                return
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if failure == "truncate" else body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = ArchiveServer(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
