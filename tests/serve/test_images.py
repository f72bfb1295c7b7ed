from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import numpy as np
import pytest

from scones.serve.errors import (
    EmptyBody,
    ImageTooLarge,
    MalformedBatch,
    NotAnImage,
    TruncatedImage,
    UnsupportedContentType,
)
from scones.serve.images import ImageLimits, decode_payload, media_type, prepare_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels with a tiny compressed body (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_png_is_decoded_to_rgb_at_model_size(make_image: Any) -> None:
    pixels = prepare_image(make_image("PNG", (32, 32), (200, 30, 40)), 32, 32)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    assert tuple(pixels[5, 7]) == (200, 30, 40)


@pytest.mark.parametrize(("fmt", "mode", "color"), [
    ("PNG", "RGBA", (10, 20, 30, 255)), ("PNG", "L", 90), ("JPEG", "RGB", (10, 200, 40)), ("GIF", "P", 3),
])
def test_any_mode_and_size_becomes_rgb_at_model_size(make_image: Any, fmt: str, mode: str, color: Any) -> None:
    pixels = prepare_image(make_image(fmt, (97, 41), color, mode), 24, 16)
    assert pixels.shape == (24, 16, 3)


def test_resize_keeps_colour(make_image: Any) -> None:
    pixels = prepare_image(make_image("PNG", (300, 200), (0, 0, 255)), 32, 32)
    assert pixels.reshape(-1, 3).mean(axis=0).round().tolist() == [0, 0, 255]


def test_empty_body() -> None:
    with pytest.raises(EmptyBody, match="empty"):
        prepare_image(b"", 32, 32)


def test_bytes_that_are_not_an_image() -> None:
    with pytest.raises(NotAnImage, match="not an image"):
        prepare_image(b"hello, this is text", 32, 32)


def test_truncated_png(make_image: Any) -> None:
    data = make_image("PNG", (64, 64), (1, 2, 3))
    with pytest.raises(TruncatedImage, match="truncated"):
        prepare_image(data[: len(data) // 2], 32, 32)


@pytest.mark.parametrize(("side", "message"), [(8000, "8000x8000 image"),
                                               (100_000, "declares more pixels than the limit of 40000000")])
def test_decompression_bomb_is_refused_from_its_header(side: int, message: str) -> None:
    bomb = png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(ImageTooLarge, match=message):
        prepare_image(bomb, 32, 32)


def test_pixel_limit_is_configurable(make_image: Any) -> None:
    with pytest.raises(ImageTooLarge, match="over the limit of 100 pixels"):
        prepare_image(make_image("PNG", (20, 20)), 32, 32, max_pixels=100)


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white() -> None:
    """Pillow's convert("RGB") clips 16-bit grey at 255: a mid-grey photo would be classified as white."""
    import io

    from PIL import Image

    grey = np.full((32, 32), 100 * 257, dtype=np.uint16)  # 8-bit 100, widened to 16 bits
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).mode.startswith("I")
    assert prepare_image(buf.getvalue(), 32, 32).mean() == pytest.approx(100, abs=0.5)


def test_media_type() -> None:
    assert media_type("image/PNG; charset=binary") == "image/png"
    assert media_type(None) == "application/x-image"


def test_single_image_payload(make_image: Any) -> None:
    pixels, batch = decode_payload(make_image("PNG"), "image/png", 32, 32)
    assert pixels.shape == (1, 32, 32, 3) and batch is False


def test_json_batch_payload(make_image: Any) -> None:
    body = json.dumps([base64.b64encode(make_image("PNG", color=(i, 0, 0))).decode() for i in range(3)]).encode()
    pixels, batch = decode_payload(body, "application/json", 32, 32)
    assert batch is True and pixels.shape == (3, 32, 32, 3)
    assert [int(p[0, 0, 0]) for p in pixels] == [0, 1, 2]


def test_unsupported_content_type(make_image: Any) -> None:
    with pytest.raises(UnsupportedContentType, match="text/csv"):
        decode_payload(make_image("PNG"), "text/csv", 32, 32)


@pytest.mark.parametrize(("body", "message"), [
    (b"[not json", "not valid JSON"),
    (b'{"a": 1}', "non-empty JSON list"),
    (b"[]", "non-empty JSON list"),
    (b"[1]", "not a base64 string"),
    (b'["***"]', "not valid base64"),
    (b"[1" + b"0" * 5000 + b"]", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, r"not valid JSON \(nested too deeply\)"),
    (b'["\xff"]', "not valid JSON"),
], ids=["not-json", "object", "empty", "number", "bad-base64", "5000-digit-number", "nested", "not-utf8"])
def test_malformed_batches(body: bytes, message: str) -> None:
    with pytest.raises(MalformedBatch, match=message):
        decode_payload(body, "application/json", 32, 32)


def test_batch_bounds(make_image: Any) -> None:
    one = base64.b64encode(make_image("PNG", (20, 20))).decode()
    with pytest.raises(MalformedBatch, match="at most 2"):
        decode_payload(json.dumps([one] * 3).encode(), "application/json", 32, 32, ImageLimits(max_batch_images=2))
    with pytest.raises(ImageTooLarge, match="in total"):
        decode_payload(json.dumps([one] * 3).encode(), "application/json", 32, 32,
                       ImageLimits(max_request_pixels=1000))


def test_an_image_in_a_batch_that_is_not_an_image_names_its_index(make_image: Any) -> None:
    body = json.dumps([base64.b64encode(make_image("PNG")).decode(), base64.b64encode(b"junk").decode()]).encode()
    with pytest.raises(NotAnImage, match="image 1 of the batch"):
        decode_payload(body, "application/json", 32, 32)


# -- the libspng fast path: same pixels as Pillow, Pillow's errors for anything it refuses ------------------
def pillow_rgb(data: bytes) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def noise_png(mode: str, size: tuple[int, int] = (32, 32), seed: int = 0, **save: Any) -> bytes:
    import io

    from PIL import Image

    channels = {"RGB": 3, "RGBA": 4}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, format="PNG", **save)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_pngs_take_the_fast_path_and_match_pillow(mode: str, seed: int) -> None:
    from scones.serve.images import _decode_plain_png

    data = noise_png(mode, seed=seed)
    fast = _decode_plain_png(data, 32, 32)
    assert fast is not None and fast.shape == (32, 32, 3) and fast.dtype == np.uint8
    np.testing.assert_array_equal(fast, pillow_rgb(data))
    np.testing.assert_array_equal(prepare_image(data, 32, 32), pillow_rgb(data))


def test_the_cifar_pngs_decode_exactly_as_pillow_does(shared_data: Any) -> None:
    from scones.serve.images import _decode_plain_png

    files = sorted((shared_data / "cifar100-bicycle-motorcycle" / "test").glob("*.png"))[:50]
    assert files
    for path in files:
        data = path.read_bytes()
        fast = _decode_plain_png(data, 32, 32)
        assert fast is not None, path.name
        np.testing.assert_array_equal(fast, pillow_rgb(data), err_msg=path.name)


@pytest.mark.parametrize("case", ["other size", "grey", "jpeg"])
def test_other_images_are_left_to_pillow(make_image: Any, case: str) -> None:
    from scones.serve.images import _decode_plain_png

    data = {"other size": lambda: noise_png("RGB", size=(33, 32)), "grey": lambda: make_image("PNG", (32, 32), 90, "L"),
            "jpeg": lambda: make_image("JPEG", (32, 32), (1, 2, 3))}[case]()
    assert _decode_plain_png(data, 32, 32) is None
    assert prepare_image(data, 32, 32).shape == (32, 32, 3)


def test_an_interlaced_png_is_left_to_pillow() -> None:
    from scones.serve.images import _decode_plain_png

    data = bytearray(noise_png("RGB"))
    data[28] = 1  # IHDR's interlace method: Adam7 (Pillow writes no interlaced PNGs; the flag is what counts)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    assert _decode_plain_png(bytes(data), 32, 32) is None


def test_a_broken_png_at_model_size_keeps_pillows_error() -> None:
    data = noise_png("RGB")
    with pytest.raises(TruncatedImage, match="truncated"):
        prepare_image(data[: len(data) // 2], 32, 32)
    corrupt = bytearray(data)
    corrupt[60] ^= 0xFF  # inside IDAT: libspng refuses the checksum, Pillow decides
    try:
        out = prepare_image(bytes(corrupt), 32, 32)
    except (NotAnImage, TruncatedImage):
        return
    assert out.shape == (32, 32, 3)


def test_large_images_are_decoded_a_few_at_a_time(make_image: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays bounded when many requests send big images at once: at most LARGE_DECODES decode."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import scones.serve.images as images

    class Counting:
        def __init__(self) -> None:
            self.lock, self.inside, self.most = threading.Lock(), 0, 0

        def __enter__(self) -> None:
            gate.acquire()
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            time.sleep(0.01)  # hold the slot long enough for the other threads to pile up

        def __exit__(self, *exc: object) -> None:
            with self.lock:
                self.inside -= 1
            gate.release()

    gate = threading.BoundedSemaphore(2)
    counting = Counting()
    monkeypatch.setattr(images, "LARGE_DECODES", counting)
    monkeypatch.setattr(images, "LARGE_IMAGE_PIXELS", 64 * 64 - 1)
    big, small = make_image("PNG", (64, 64), (9, 9, 9)), make_image("PNG", (40, 40), (9, 9, 9))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda data: prepare_image(data, 32, 32), [big] * 16))
        assert counting.most == 2
        counting.most = 0
        list(pool.map(lambda data: prepare_image(data, 32, 32), [small] * 16))
    assert counting.most == 0  # small images never wait
