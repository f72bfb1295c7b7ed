"""A request body streamed into a temporary file, hashed on the way, in bounded memory.

Small bodies (the common 3 KB image) are written on the event loop in one ``write``; larger ones go to the
file in blocks of ``FLUSH_BYTES`` from a worker thread, where MD5 and the checksums are updated too
(hashlib and the CRCs release the GIL). At most one block per request is ever held. A client that
disconnects mid-body, a body that ends early, a digest that does not match: the temporary file is
removed and nothing becomes visible.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.requests import ClientDisconnect, Request

from scones.gateway.s3.checksums import Hasher, new_hasher
from scones.gateway.s3.chunked import AwsChunkedDecoder
from scones.gateway.s3.errors import S3Error, entity_too_large
from scones.gateway.s3.storage import filling, write_all

FLUSH_BYTES: Final = 1 << 20
#: Below this the last block is written on the event loop (a thread hop costs more than the write).
INLINE_BYTES: Final = 256 * 1024


class ClientGone(Exception):
    """The client closed the connection before the body was complete."""


@dataclass
class Received:
    size: int
    md5: bytes
    digests: dict[str, bytes]
    st: os.stat_result  # of the file written
    trailers: dict[str, str] = field(default_factory=dict)
    payload_sha256: bytes = b""


def _write(fd: int, hashers: Iterable[Hasher], pieces: list[bytes]) -> None:
    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    for hasher in hashers:
        hasher.update(data)
    write_all(fd, data)


async def receive(request: Request, fd: int, tmp: Path, *, algorithms: Iterable[str], chunked: bool,
                  expected: int | None, limit: int, payload_sha256: bool = False) -> Received:
    """Stream the body into the new file ``tmp`` open as ``fd`` (closed here; the file removed on any failure).

    ``expected`` is the object's length as announced (``Content-Length``, or ``x-amz-decoded-content-length``
    for aws-chunked bodies); a body of another length is IncompleteBody. ``payload_sha256``: also hash the
    body with SHA-256, to check a signed request's ``x-amz-content-sha256``.
    """
    md5 = hashlib.md5()
    named = {a: new_hasher(a) for a in algorithms}
    hashers: list[Hasher] = [md5, *named.values()]
    payload = hashlib.sha256() if payload_sha256 else None
    if payload is not None:
        hashers.append(payload)
    decoder = AwsChunkedDecoder() if chunked else None
    size = 0
    pending: list[bytes] = []
    pending_size = 0
    with filling(fd, tmp):
        try:
            async for chunk in request.stream():
                if not chunk:
                    continue
                pieces = decoder.feed(chunk) if decoder is not None else [chunk]
                for piece in pieces:
                    pending.append(piece)
                    pending_size += len(piece)
                    size += len(piece)
                if size > limit:
                    raise entity_too_large(size, limit)
                if pending_size >= FLUSH_BYTES:
                    await asyncio.to_thread(_write, fd, hashers, pending)
                    pending, pending_size = [], 0
        except ClientDisconnect as exc:
            raise ClientGone() from exc
        trailers = decoder.finish() if decoder is not None else {}
        if expected is not None and size != expected:
            raise S3Error("IncompleteBody", "You did not provide the number of bytes specified by the "
                          "Content-Length HTTP header", 400, NumberBytesExpected=str(expected),
                          NumberBytesProvided=str(size))
        if pending_size > INLINE_BYTES:
            await asyncio.to_thread(_write, fd, hashers, pending)
        elif pending:
            _write(fd, hashers, pending)
        st = os.fstat(fd)
    return Received(size, md5.digest(), {a: h.digest() for a, h in named.items()}, st, trailers,
                    payload.digest() if payload is not None else b"")
