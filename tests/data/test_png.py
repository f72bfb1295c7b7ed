from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from scones.data.png import SIGNATURE, encode_rgb_png


@pytest.mark.parametrize("shape", [(32, 32, 3), (1, 1, 3), (5, 7, 3), (64, 3, 3)])
def test_round_trip_is_pixel_exact(shape: tuple[int, int, int]) -> None:
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    data = encode_rgb_png(pixels)
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        image.load()  # Pillow checks every chunk's CRC on the way
        assert image.mode == "RGB" and image.size == (shape[1], shape[0])
        assert np.array_equal(np.asarray(image), pixels)


def test_extremes_survive_the_up_filter() -> None:
    pixels = np.zeros((4, 4, 3), dtype=np.uint8)
    pixels[1::2] = 255  # every row differs from the one above by the largest step, both ways
    with Image.open(io.BytesIO(encode_rgb_png(pixels))) as image:
        assert np.array_equal(np.asarray(image), pixels)


def test_layout_is_plain_and_deterministic() -> None:
    pixels = np.full((2, 2, 3), 7, dtype=np.uint8)
    data = encode_rgb_png(pixels)
    assert data == encode_rgb_png(pixels.copy())
    assert data.startswith(SIGNATURE)
    chunks, offset = [], len(SIGNATURE)
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        tag, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        crc = int.from_bytes(data[offset + 8 + length:offset + 12 + length], "big")
        assert crc == zlib.crc32(tag + body)
        chunks.append(tag)
        offset += 12 + length
    assert chunks == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize("bad", [np.zeros((2, 2), np.uint8), np.zeros((2, 2, 4), np.uint8),
                                 np.zeros((2, 2, 3), np.int16), np.zeros((0, 2, 3), np.uint8)],
                         ids=["gray", "rgba", "int16", "empty"])
def test_refuses_what_it_cannot_encode(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="H×W×3 uint8"):
        encode_rgb_png(bad)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny file declaring a huge canvas: the decompression-bomb shape."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "an empty file"),
    (b"GIF89a not a png", "not a PNG image"),
    (_png_header_only(9_000, 9_000), "9000×9000 pixels is more than a dataset image may have"),
    (_png_header_only(20_000, 20_000), "decompression bomb"),
], ids=["empty", "other-format", "over-our-limit", "over-pillows-limit"])
def test_open_png_refuses_with_a_readable_reason(data: bytes, reason: str) -> None:
    import warnings

    from scones.data.png import open_png

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning printed to the user either
        with pytest.raises(ValueError, match=reason) as info:
            open_png(data)
    assert "BytesIO" not in str(info.value)


def test_open_png_opens_a_real_png() -> None:
    from scones.data.png import open_png

    with open_png(encode_rgb_png(np.zeros((4, 5, 3), np.uint8))) as image:
        assert image.size == (5, 4)
