"""The two kinds of S3 answers: bytes we have (XML, small objects, errors) and a file we stream.

Both take their headers as ready ``(name, value)`` pairs: the serializer already made them, so
starlette's header building is skipped. ``FileBody`` streams a range of an open descriptor in blocks
read by a worker thread, and closes it when the answer is done, sent or not.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any, Final

from starlette.responses import Response

#: Bodies up to this size are read at once and sent in one message.
SMALL_BODY: Final = 256 * 1024
BLOCK: Final = 1 << 20


def _raw(headers: Sequence[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]


class S3Response(Response):
    def __init__(self, status: int, headers: Sequence[tuple[str, str]], body: bytes = b"",
                 content_length: int | None = None) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        length = len(body) if content_length is None else content_length
        self.raw_headers = [*_raw(headers), (b"content-length", str(length).encode())]


class FileBody(Response):
    """``length`` bytes of ``fd`` from ``offset``; the descriptor is closed at the end."""

    def __init__(self, status: int, headers: Sequence[tuple[str, str]], fd: int, offset: int, length: int) -> None:
        self.status_code = status
        self.background = None
        self.body = b""
        self.fd = fd
        self.offset = offset
        self.length = length
        self.raw_headers = [*_raw(headers), (b"content-length", str(length).encode())]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            left, offset = self.length, self.offset
            while left > 0:
                size = min(BLOCK, left)
                block = await asyncio.to_thread(os.pread, self.fd, size, offset)
                if not block:  # the file shrank under us (a hand edit): end early rather than hang
                    break
                left -= len(block)
                offset += len(block)
                await send({"type": "http.response.body", "body": block, "more_body": left > 0})
            if left > 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            os.close(self.fd)
