"""A minimal RGB PNG encoder: staging writes tens of thousands of 32×32 images.

Pillow's encoder spends most of its time in per-image Python set-up (and holds
the GIL while doing so), which made it the bottleneck of staging. This writes
the four parts a PNG needs (signature, IHDR, one IDAT, IEND) with the "Up"
filter computed by numpy for all rows at once and zlib doing the compression
(zlib releases the GIL, so a thread pool spreads it over the cores). The
output is a standard 8-bit truecolour PNG that any decoder reads back
pixel-exact; it is deterministic (no time or text chunks).
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np

SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
FILTER_UP: Final = 2
COMPRESSION_LEVEL: Final = 6


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def encode_rgb_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an H×W×3 uint8 array."""
    import numpy as np

    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3 or 0 in pixels.shape:
        raise ValueError(f"expected a non-empty H×W×3 uint8 array, got {pixels.shape} {pixels.dtype}")
    height, width, _ = pixels.shape
    rows = pixels.reshape(height, width * 3)
    scanlines = np.empty((height, 1 + width * 3), dtype=np.uint8)
    scanlines[:, 0] = FILTER_UP
    scanlines[0, 1:] = rows[0]  # the row above the first one counts as zeros
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # modulo 256, as the filter defines
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), COMPRESSION_LEVEL)) + _chunk(b"IEND", b""))


#: Largest image a dataset may hold (pixels). CIFAR's are 32×32; this leaves room for any
#: reasonable photo while a small file declaring a huge canvas (a decompression bomb) is refused
#: before it is decoded.
MAX_DATASET_PIXELS: Final = 64_000_000


def open_png(data: bytes) -> Any:
    """``PIL.Image.open`` for PNG bytes with the size checked first; failures are ``ValueError`` with
    a reason fit for a user (Pillow's own texts name in-memory objects like ``<_io.BytesIO ...>``)."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # the size is checked below, with a clearer message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["PNG"])
    except UnidentifiedImageError as exc:
        raise ValueError("not a PNG image" if data else "an empty file") from exc
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(str(exc)) from exc
    width, height = image.size
    if width * height > MAX_DATASET_PIXELS:
        image.close()
        raise ValueError(f"{width}×{height} pixels is more than a dataset image may have "
                         f"({MAX_DATASET_PIXELS:,} pixels)")
    return image


def rgb_image(image: Any) -> Any:
    """A Pillow image as 8-bit RGB. 16- and 32-bit greyscale (modes ``I;16*`` and ``I``) are scaled
    down to 8 bits first: Pillow's own ``convert("RGB")`` clips them at 255, which turns an ordinary
    16-bit grey photo into a white square."""
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I"):
        import numpy as np
        from PIL import Image

        wide = np.asarray(image).astype(np.int64)
        return Image.fromarray(np.clip(wide >> 8, 0, 255).astype(np.uint8), "L").convert("RGB")
    return image.convert("RGB")
