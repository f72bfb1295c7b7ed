"""Writing realistic Data Capture for tests, benchmarks and demos, without running an endpoint.

Records are built with ``scones.capture_format`` (the endpoint's own record type) and
laid out as SageMaker does: ``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid>.jsonl``,
a new file every ``rotate_seconds`` of traffic, before ``rotate_bytes`` and at every hour
boundary (the endpoint's defaults are 60 s and 4 MiB).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from scones.capture_format import CaptureRecord, CaptureSide, Mode, capture_key


def probabilities_json(probs: Sequence[float]) -> bytes:
    """The real endpoint's body: a JSON array with ``", "`` separators (docs/aws-facts.md, Data Capture)."""
    return ("[" + ", ".join(repr(float(p)) for p in probs) + "]").encode()


def make_record(image: bytes, probs: Sequence[float], when: datetime, *,
                content_type: str = "image/png") -> CaptureRecord:
    return CaptureRecord(
        event_id=str(uuid.uuid4()), inference_time=when,
        endpoint_input=CaptureSide.from_payload(image, content_type, Mode.INPUT),
        endpoint_output=CaptureSide.from_payload(probabilities_json(probs), "application/json", Mode.OUTPUT),
    )


def spread(count: int, start: datetime, duration: timedelta) -> list[datetime]:
    """``count`` evenly spaced times over ``duration`` from ``start``."""
    step = duration / max(count, 1)
    return [start + step * i for i in range(count)]


def write_capture(root: Path, records: Iterable[CaptureRecord], *, endpoint: str = "scones-endpoint",
                  variant: str = "AllTraffic", rotate_seconds: float = 600.0,
                  rotate_bytes: int = 4 * 1024 * 1024) -> list[Path]:
    """Write records (in time order) into rotated capture files under ``root``; returns the files."""
    paths: list[Path] = []
    handle: io.TextIOWrapper | None = None
    opened_at: datetime | None = None
    size = 0
    try:
        for record in records:
            when = record.inference_time
            line = record.to_json_line()
            if (handle is None or opened_at is None or (when - opened_at).total_seconds() >= rotate_seconds
                    or when.astimezone(UTC).hour != opened_at.astimezone(UTC).hour
                    or size + len(line) > rotate_bytes):
                if handle is not None:
                    handle.close()
                path = root / capture_key(endpoint, variant, when)
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(path, "w", encoding="utf-8", newline="\n")
                opened_at = when
                size = 0
                paths.append(path)
            handle.write(line)
            size += len(line)
    finally:
        if handle is not None:
            handle.close()
    return paths


def darken(png: bytes, factor: float) -> bytes:
    """The same image with every channel scaled by ``factor`` (a simulated under-exposed camera)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=np.float32)
    out = Image.fromarray(np.clip(pixels * factor, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, format="PNG")
    return buf.getvalue()
