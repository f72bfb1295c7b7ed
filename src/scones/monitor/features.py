"""What the monitor measures on one inference: input image statistics and the output probabilities.

Baseline and report both go through these functions, so a drift is never an
artefact of measuring two sides differently. Image statistics are computed in
batches of same-sized images because per-image numpy calls would dominate the
cost of a 100,000-record report.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from scones.capture_format import CaptureFormatError, CaptureSide, Encoding, media_type
from scones.data.png import rgb_image

#: Numeric input features, in column order of ``image_stats``.
IMAGE_FEATURES: Final = ("image_width", "image_height", "brightness", "contrast", "saturation")
INTEGRAL_FEATURES: Final = frozenset({"image_width", "image_height"})
CONFIDENCE: Final = "confidence"
PREDICTED_CLASS: Final = "predicted_class"
CONTENT_TYPE: Final = "content_type"
#: Images larger than this many pixels are counted as undecodable rather than decoded (4096 x 4096:
#: 48 MiB of RGB; SageMaker's 6 MiB request cap allows far larger decompression bombs: docs/aws-facts.md,
#: SageMaker Runtime).
MAX_PIXELS: Final = 16 * 1024 * 1024
_LUMA: Final = (77, 150, 29)  # 0.299, 0.587, 0.114 in 1/256ths; they sum to 256
#: Pixels per chunk of image statistics: 128 CIFAR images, small enough to stay in cache.
_STATS_CHUNK_PIXELS: Final = 128 * 32 * 32
_LIKELY_FORMATS: Final = ("PNG", "JPEG")


class ImageDecodeError(ValueError):
    """Input bytes that are not an image Pillow can decode."""


class OutputFormatError(ValueError):
    """An endpoint output that is not a list of class probabilities."""


def prob_feature(class_name: str) -> str:
    return f"prob_{class_name}"


def decode_image(data: bytes) -> np.ndarray:
    """Decoded RGB pixels ``[height, width, 3]`` uint8 (alpha dropped, palettes and grey expanded)."""
    from PIL import Image, UnidentifiedImageError

    try:
        try:
            # Naming the likely formats skips Pillow's probing of every plugin (a third of the cost).
            img = Image.open(io.BytesIO(data), formats=_LIKELY_FORMATS)
        except UnidentifiedImageError:
            img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise ImageDecodeError(f"image of {img.width}x{img.height} pixels is too large to inspect")
        if img.mode not in ("RGB", "RGBA"):
            img = rgb_image(img)  # 16-bit grey scaled to 8 bits, not clipped
        arr = np.asarray(img)
    except ImageDecodeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"not a decodable image: {exc}") from exc
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ImageDecodeError(f"decoded to an unexpected shape {arr.shape}")
    return arr[:, :, :3]


def image_stats(images: Sequence[np.ndarray]) -> np.ndarray:
    """``[n, 5]`` float64: width, height, then brightness, contrast and saturation in [0, 1].

    Brightness is the mean luma (ITU-R 601 weights as 8-bit integers, 77/150/29 of 256),
    contrast its standard deviation (RMS contrast), saturation the mean HSV saturation.
    Same-sized images are processed together in cache-sized chunks.
    """
    out = np.empty((len(images), len(IMAGE_FEATURES)), dtype=np.float64)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, img in enumerate(images):
        by_shape.setdefault(img.shape, []).append(i)
    for shape, idx in by_shape.items():
        chunk = max(1, _STATS_CHUNK_PIXELS // max(1, shape[0] * shape[1]))
        for start in range(0, len(idx), chunk):
            rows = np.asarray(idx[start:start + chunk])
            batch = np.stack([images[i] for i in rows]).reshape(rows.size, -1, 3)
            r, g, b = batch[:, :, 0], batch[:, :, 1], batch[:, :, 2]
            luma = (r.astype(np.uint16) * _LUMA[0] + g.astype(np.uint16) * _LUMA[1]
                    + b.astype(np.uint16) * _LUMA[2]).astype(np.float32) * (1.0 / (256 * 255))
            hi = np.maximum(np.maximum(r, g), b)
            lo = np.minimum(np.minimum(r, g), b)
            sat = (hi - lo).astype(np.float32) / np.maximum(hi, 1).astype(np.float32)
            out[rows, 0] = shape[1]
            out[rows, 1] = shape[0]
            out[rows, 2] = luma.mean(axis=1)
            out[rows, 3] = luma.std(axis=1)
            out[rows, 4] = sat.mean(axis=1)
    return out


def parse_probabilities(side: CaptureSide) -> list[float]:
    """Class probabilities from an endpoint output.

    Accepts what SageMaker image classifiers answer: a JSON array (the real-time
    contract), ``{"prediction": [...]}`` (batch transform's JSON Lines) or
    ``{"probabilities": [...]}``, and CSV numbers.
    """
    if side.encoding is Encoding.CSV:
        text = side.data
    else:
        try:
            text = side.payload().decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise OutputFormatError(f"output is not text: {exc}") from exc
    text = text.strip()
    value: object
    if side.encoding is Encoding.CSV or (text and text[0] not in "[{"):
        try:
            value = [float(v) for v in text.replace("\n", ",").split(",") if v.strip()]
        except ValueError as exc:
            raise OutputFormatError(f"output is neither JSON nor CSV numbers: {text[:60]!r}") from exc
    else:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser's limit
            raise OutputFormatError(f"output is not JSON: {text[:60]!r}") from exc
    if isinstance(value, dict):
        value = value.get("prediction", value.get("probabilities"))
    return _checked_probabilities(value, text)


def parse_batch(input_side: CaptureSide,
                output_side: CaptureSide | None) -> list[tuple[bytes, list[float] | None]] | None:
    """The images and answers of one batch request to ``scones serve`` (``application/json``: a
    list of base64 images in, a list of probability lists out), or None when the record is not
    one. An answer that cannot be read leaves that image's probabilities None."""
    if not media_type(input_side.observed_content_type).endswith("json"):
        return None
    items = _json_list_of(input_side, str)
    if items is None:
        return None
    try:
        images = [base64.b64decode(i, validate=True) for i in items]
    except (binascii.Error, ValueError):
        return None
    read = parse_batch_answer(output_side) if output_side is not None else None
    answers: list[list[float] | None] = list(read) if read is not None and len(read) == len(images) \
        else [None] * len(images)
    return list(zip(images, answers, strict=True))


def parse_batch_answer(output_side: CaptureSide) -> list[list[float]] | None:
    """The probability lists of a batch answer (``[[p, ...], ...]``) when the output is one, else None."""
    value = _json_list_of(output_side, list)
    if value is None:
        return None
    try:
        return [_checked_probabilities(v, json.dumps(v)) for v in value]
    except OutputFormatError:
        return None


def _json_list_of(side: CaptureSide, kind: type) -> list[Any] | None:
    """The side's payload as a non-empty JSON list whose items are all ``kind``, else None."""
    try:
        value = json.loads(side.payload())
    except (ValueError, RecursionError, CaptureFormatError):
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, kind) for v in value):
        return None
    return value


def _checked_probabilities(value: object, text: str) -> list[float]:
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise OutputFormatError(f"output is not a list of probabilities: {text[:60]!r}")
    probs = [float(v) for v in value]
    if not all(math.isfinite(p) and -1e-6 <= p <= 1.0 + 1e-6 for p in probs):
        raise OutputFormatError(f"output holds values outside [0, 1]: {text[:60]!r}")
    return probs
