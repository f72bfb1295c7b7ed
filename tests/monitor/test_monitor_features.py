from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from scones.capture_format import CaptureSide, Encoding, Mode
from scones.monitor.features import ImageDecodeError, OutputFormatError, decode_image, image_stats, parse_probabilities


def _encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def test_image_statistics_of_known_images() -> None:
    white = np.full((4, 6, 3), 255, np.uint8)
    red = np.zeros((4, 6, 3), np.uint8)
    red[:, :, 0] = 255
    half = np.zeros((4, 6, 3), np.uint8)
    half[:2] = 255
    stats = image_stats([white, red, half])
    assert stats[:, :2].tolist() == [[6, 4]] * 3
    assert stats[0, 2:].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert stats[1, 2:].tolist() == pytest.approx([77 / 256, 0.0, 1.0])
    assert stats[2, 2:].tolist() == pytest.approx([0.5, 0.5, 0.0])


def test_mixed_sizes_keep_their_rows() -> None:
    small, big = np.zeros((2, 2, 3), np.uint8), np.full((3, 5, 3), 128, np.uint8)
    stats = image_stats([big, small, big] + [small] * 300)  # more than one chunk of one size
    assert stats[0, :2].tolist() == [5, 3] and stats[1, :2].tolist() == [2, 2] and stats[2, 2] == stats[0, 2]
    assert np.all(stats[3:, 2] == 0)


@pytest.mark.parametrize("mode, fmt", [("RGBA", "PNG"), ("L", "PNG"), ("P", "PNG"), ("RGB", "JPEG"), ("RGB", "BMP"),
                                       ("I;16", "PNG")])
def test_decodes_common_modes_to_rgb(mode: str, fmt: str) -> None:
    pixels = decode_image(_encode(Image.new(mode, (7, 5)), fmt))
    assert pixels.shape == (5, 7, 3) and pixels.dtype == np.uint8


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a garbage", b"\xff\xd8\xff\xe0 not really"],
                         ids=["empty", "png-header-only", "bad-gif", "bad-jpeg"])
def test_undecodable_bytes_raise_our_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError):
        decode_image(data)


def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scones.monitor.features.MAX_PIXELS", 10)
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_image(_encode(Image.new("RGB", (4, 4))))


@pytest.mark.parametrize("data, encoding, expected", [
    ("[0.8227921724319458, 0.1772077977657318]", Encoding.JSON, [0.8227921724319458, 0.1772077977657318]),
    ('{"prediction": [0.1, 0.9]}', Encoding.JSON, [0.1, 0.9]),
    ('{"probabilities": [1, 0]}', Encoding.JSON, [1.0, 0.0]),
    ("0.3,0.7", Encoding.CSV, [0.3, 0.7]),
    ("0.3\n0.7\n", Encoding.CSV, [0.3, 0.7]),
])
def test_outputs_understood(data: str, encoding: Encoding, expected: list[float]) -> None:
    side = CaptureSide("application/json", Mode.OUTPUT, data, encoding)
    assert parse_probabilities(side) == pytest.approx(expected)


@pytest.mark.parametrize("data", ["not json at all", "[]", '["a", "b"]', "[true, false]", '{"x": 1}', "[0.5, 1.5]",
                                  "[NaN, 0.5]", "<html>", "0.5,abc"])
def test_outputs_refused(data: str) -> None:
    with pytest.raises(OutputFormatError):
        parse_probabilities(CaptureSide("application/json", Mode.OUTPUT, data, Encoding.JSON))
