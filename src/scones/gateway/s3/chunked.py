"""``aws-chunked`` request bodies, decoded as they stream in.

SDKs that sign each chunk (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) or send checksums after the body
(``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, ``x-amz-trailer``) frame the object like this::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=<sig>]\\r\\n
    [x-amz-checksum-crc32:<base64>\\r\\n ... x-amz-trailer-signature:<sig>\\r\\n]\\r\\n

A push parser: ``feed`` takes whatever the socket delivered and returns the object bytes in it, so a
body of any size passes through in bounded memory; ``finish`` checks the frame ended properly and
returns the trailing headers. Chunk signatures are read and dropped: the seed signature is the
gateway verifier's business, and the trailing checksum is verified against the bytes received.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final

from scones.gateway.s3.errors import S3Error

#: A chunk header or trailer line longer than this is not aws-chunked framing.
MAX_LINE: Final = 4096
#: A chunk size: hex digits only (``int(..., 16)`` alone would also take "-6", "0x6", "+6" or "6_0").
_HEX: Final = re.compile(rb"[0-9A-Fa-f]+")


class _State(Enum):
    SIZE = 1
    DATA = 2
    DATA_END = 3
    TRAILER = 4
    DONE = 5


def _incomplete(why: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked request body is malformed: {why}", 400)


class AwsChunkedDecoder:
    def __init__(self) -> None:
        self._state = _State.SIZE
        self._line = bytearray()
        self._left = 0
        self.trailers: dict[str, str] = {}
        self.decoded = 0

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            if self._state is _State.DATA:
                take = min(self._left, len(view) - pos)
                out.append(bytes(view[pos:pos + take]))
                pos += take
                self._left -= take
                self.decoded += take
                if self._left == 0:
                    self._state = _State.DATA_END
                continue
            if self._state is _State.DONE:
                if bytes(view[pos:]).strip():
                    raise _incomplete("data after the final chunk")
                break
            end = data.find(b"\n", pos)
            if end < 0:
                self._line += view[pos:]
                if len(self._line) > MAX_LINE:
                    raise _incomplete("a chunk header line is too long")
                break
            self._line += view[pos:end + 1]
            pos = end + 1
            line = bytes(self._line).rstrip(b"\r\n")
            self._line.clear()
            self._line_done(line)
        return out

    def _line_done(self, line: bytes) -> None:
        if self._state is _State.SIZE:
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                # A negative size would move the parser backwards: "-6" can loop it forever on one body.
                raise _incomplete(f"chunk size {size_text[:32]!r} is not hexadecimal")
            self._left = int(size_text, 16)
            self._state = _State.DATA if self._left else _State.TRAILER
        elif self._state is _State.DATA_END:
            if line:
                raise _incomplete("a chunk is longer than its size")
            self._state = _State.SIZE
        elif self._state is _State.TRAILER:
            if not line:
                self._state = _State.DONE
                return
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _incomplete(f"trailer {line[:64]!r} has no ':'")
            self.trailers[name.strip().lower()] = value.strip()

    def finish(self) -> dict[str, str]:
        """The trailing headers; IncompleteBody when the stream stopped before its final chunk."""
        if self._state is _State.TRAILER and not self._line:
            self._state = _State.DONE  # some clients end with the last trailer's CRLF only
        if self._state is not _State.DONE:
            raise _incomplete("the body ended before the final 0-size chunk")
        return self.trailers
