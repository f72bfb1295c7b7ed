"""Request payloads to pixels: the built-in algorithm's content types, any image size.

Decoding is where hostile input lands, so every limit is checked before the
expensive step: the pixel count is read from the header before any pixel is
decoded (decompression bombs), batches are bounded in count and in total pixels,
and every failure becomes an ``InvocationError`` with a message for the caller.
Training uses ``prepare_image`` too, so the model sees what it was trained on.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from scones.capture_format import media_type as capture_media_type
from scones.data.png import rgb_image
from scones.serve.errors import (
    EmptyBody,
    ImageTooLarge,
    MalformedBatch,
    NotAnImage,
    TruncatedImage,
    UnsupportedContentType,
)
from scones.serve.predictor import available_cpus

if TYPE_CHECKING:
    import numpy as np

#: Content types the built-in image-classification algorithm accepts for one image.
IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "application/x-image"})
#: A JSON list of base64-encoded images (a batch call).
BATCH_TYPE: Final = "application/json"
#: Formats Pillow may decode here; anything else is refused rather than parsed.
DECODE_FORMATS: Final = ("PNG", "JPEG", "BMP", "GIF", "WEBP")


#: Images above this many pixels are decoded at most ``LARGE_DECODES`` at a time. A 100 KB PNG
#: can declare 36 M pixels (~110 MB once decoded, more while resizing), and the request thread pool
#: lets dozens of such requests decode at once (docs/performance.md, Endpoint).
LARGE_IMAGE_PIXELS: Final = 4_000_000
LARGE_DECODES: Final = threading.BoundedSemaphore(available_cpus())


@dataclass(frozen=True)
class ImageLimits:
    max_image_pixels: int = 40_000_000
    max_request_pixels: int = 80_000_000
    max_batch_images: int = 256


def media_type(content_type: str | None) -> str:
    """``image/png; charset=x`` -> ``image/png``; no header -> ``application/x-image`` (sniffed)."""
    return capture_media_type(content_type) or "application/x-image"


def prepare_image(data: bytes, height: int, width: int, *, max_pixels: int = ImageLimits.max_image_pixels,
                  label: str = "the body") -> np.ndarray:
    """Decode one image to RGB uint8 ``[height, width, 3]``, resized bilinearly when its size differs."""
    return _decode(data, height, width, max_pixels, label)[0]


def _decode(data: bytes, height: int, width: int, max_pixels: int, label: str) -> tuple[np.ndarray, int]:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise EmptyBody(f"{label} is empty; send the bytes of a PNG or JPEG image")
    fast = _decode_plain_png(data, height, width)
    if fast is not None:
        return fast, height * width
    try:
        with Image.open(io.BytesIO(data), formats=DECODE_FORMATS) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise ImageTooLarge(f"{label} is a {w}x{h} image ({w * h} pixels), over the limit of "
                                    f"{max_pixels} pixels; send a smaller image")
            if img.format == "JPEG":
                img.draft("RGB", (width, height))  # decode at a reduced scale when the JPEG allows it
            with LARGE_DECODES if w * h > LARGE_IMAGE_PIXELS else contextlib.nullcontext():
                img.load()
                rgb = rgb_image(img)  # 16-bit grey scaled, not clipped; RGB passes through uncopied
                if rgb.size != (width, height):
                    rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
                pixels = np.asarray(rgb, dtype=np.uint8)
    except Image.DecompressionBombError as exc:  # Pillow refused it from the header, before our own check
        raise ImageTooLarge(f"{label} declares more pixels than the limit of {max_pixels}; "
                            f"send a smaller image") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage(f"{label} is not an image scones can read (PNG, JPEG, BMP, GIF or WEBP)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        if "truncated" in text.lower() or isinstance(exc, EOFError):
            raise TruncatedImage(f"{label} is a truncated image ({text}); send the complete file") from exc
        raise NotAnImage(f"{label} could not be decoded as an image ({text or type(exc).__name__})") from exc
    return pixels, w * h


PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
#: IHDR bytes 24-29: bit depth 8, colour type RGB (2) or RGBA (6), compression 0, filter 0, no interlace.
_PLAIN_PNG_MODES: Final = (b"\x08\x02\x00\x00\x00", b"\x08\x06\x00\x00\x00")


def _decode_plain_png(data: bytes, height: int, width: int) -> np.ndarray | None:
    """The common case, fast: an 8-bit RGB(A) PNG already at the model's size, decoded by libspng
    (pyspng), cheaper than Pillow for a CIFAR image and so more requests/s (docs/performance.md,
    Endpoint). Pixels equal Pillow's (alpha dropped, as ``convert("RGB")`` does). None means
    "use Pillow": any other image, or anything pyspng refuses, so errors keep Pillow's messages."""
    if (len(data) < 33 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR"
            or data[24:29] not in _PLAIN_PNG_MODES
            or int.from_bytes(data[16:20], "big") != width or int.from_bytes(data[20:24], "big") != height):
        return None
    try:
        import pyspng
    except ImportError:  # pragma: no cover - pyspng is a dependency; Pillow still decodes everything
        return None
    try:
        return pyspng.load(data, format="RGB")
    except RuntimeError:
        return None


def decode_payload(body: bytes, content_type: str | None, height: int, width: int,
                   limits: ImageLimits = ImageLimits()) -> tuple[np.ndarray, bool]:
    """Pixels ``[n, height, width, 3]`` and whether the caller sent a batch (answered with a list of lists)."""
    import numpy as np

    media = media_type(content_type)
    if media in IMAGE_TYPES:
        return prepare_image(body, height, width, max_pixels=limits.max_image_pixels)[None, ...], False
    if media != BATCH_TYPE:
        raise UnsupportedContentType(
            f"Content type {content_type!r} is not supported; send image/png, image/jpeg or "
            f"application/x-image with one image, or application/json with a list of base64 images")
    images = _batch_items(body, limits)
    total = 0
    out = np.empty((len(images), height, width, 3), dtype=np.uint8)
    for i, data in enumerate(images):
        out[i], pixels = _decode(data, height, width, limits.max_image_pixels, f"image {i} of the batch")
        total += pixels
        if total > limits.max_request_pixels:
            raise ImageTooLarge(f"the batch holds more than {limits.max_request_pixels} pixels in total; "
                                f"split it into smaller batches")
    return out, True


def _batch_items(body: bytes, limits: ImageLimits) -> list[bytes]:
    if not body:
        raise EmptyBody("the body is empty; send a JSON list of base64-encoded images")
    try:
        items = json.loads(body)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a 5000-digit number, nesting too deep
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise MalformedBatch(f"the body is not valid JSON ({reason}); send a JSON list of base64-encoded images"
                             ) from exc
    if not isinstance(items, list) or not items:
        raise MalformedBatch("an application/json body must be a non-empty JSON list of base64-encoded images")
    if len(items) > limits.max_batch_images:
        raise MalformedBatch(f"the batch holds {len(items)} images; at most {limits.max_batch_images} per call")
    decoded = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise MalformedBatch(f"item {i} of the batch is a {type(item).__name__}, not a base64 string")
        try:
            decoded.append(base64.b64decode(item, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise MalformedBatch(f"item {i} of the batch is not valid base64 ({exc})") from exc
    return decoded
