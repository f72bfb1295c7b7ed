"""Builders of small, real monitor inputs: PNG images, a staged dataset, model.json variants, captures."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from scones.capture_format import CaptureRecord, CaptureSide, Encoding, Mode
from scones.data.dataset import DATASET_JSON, ManifestEntry, build_dataset_json, format_lst, manifest_key
from scones.model_artifact import ModelArtifact, ModelSpec, build_tarball, read_model_tarball
from scones.monitor.baseline import Classifier
from scones.monitor.capture import Issue
from scones.monitor.features import decode_image
from scones.monitor.simulate import make_record, spread, write_capture

CLASSES = ("bicycle", "motorcycle")
START = datetime(2025, 10, 4, 8, 0, tzinfo=UTC)


def make_pngs(n: int, seed: int, *, size: int = 32) -> list[bytes]:
    """Photo-like test images: a random base colour per image plus texture noise, as PNG bytes."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        base = rng.uniform(40, 215, size=3)
        noise = rng.normal(0, 25, size=(size, size, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def stage_dataset(root: Path, train: Sequence[bytes], test: Sequence[bytes]) -> Path:
    """The data issue's layout: train/, test/, *.lst (row, label, file) and dataset.json."""
    manifests: dict[str, list[ManifestEntry]] = {}
    for split, images in (("train", train), ("test", test)):
        (root / split).mkdir(parents=True, exist_ok=True)
        manifests[split] = [ManifestEntry(i, i % 2, f"{split}_{i:04d}.png") for i in range(len(images))]
        for entry, png in zip(manifests[split], images, strict=True):
            (root / split / entry.filename).write_bytes(png)
        (root / manifest_key(split)).write_text(format_lst(manifests[split]))
    doc = build_dataset_json(CLASSES, manifests, source_uri="synthetic", source_kind="folder", source_md5="0" * 32,
                             created=START)
    (root / DATASET_JSON).write_text(json.dumps(doc))
    return root


def with_training(model: ModelArtifact, **extra: object) -> ModelArtifact:
    """The tiny model with extra model.json fields (validation_files, metrics.reliability…)."""
    spec = ModelSpec(**{**model.spec.__dict__, **extra})
    return read_model_tarball(build_tarball(model.onnx_bytes, spec))


def capture_from_images(root: Path, images: Sequence[bytes], model: ModelArtifact, *,
                        start: datetime = START, hours: float = 2.0, rotate_seconds: float = 1800) -> list[Path]:
    probs = Classifier(model).predict([decode_image(b) for b in images])
    times = spread(len(images), start, timedelta(hours=hours))
    return write_capture(root, (make_record(img, p, t) for img, p, t in zip(images, probs, times, strict=True)),
                         rotate_seconds=rotate_seconds)


def _line(record: CaptureRecord) -> str:
    return record.to_json_line()


def bad_capture(folder: Path) -> dict[Issue, int]:
    """One file with every kind of bad input next to good records; returns the expected counts."""
    good_png = make_pngs(1, 3)[0]
    good = make_record(good_png, [0.9, 0.1], START)
    out_text = CaptureSide.from_payload(b"oops, not JSON", "text/plain", Mode.OUTPUT)
    out_json_text = CaptureSide("application/json", Mode.OUTPUT, "<html>error</html>", Encoding.JSON)
    out_three = CaptureSide.from_payload(b"[0.2, 0.3, 0.5]", "application/json", Mode.OUTPUT)
    out_one = CaptureSide.from_payload(b"[1.0]", "application/json", Mode.OUTPUT)
    not_image = CaptureSide.from_payload(b"\x89PNG\r\n\x1a\ntruncated", "image/png", Mode.INPUT)
    bad_b64 = CaptureSide("image/png", Mode.INPUT, "!!!not base64!!!", Encoding.BASE64)
    lines = [
        _line(good),
        "this is not json\n",
        "{\"captureData\": {\"endpointInput\": \n",  # truncated line (a crash mid-write)
        "\n",  # blank lines are ignored
        json.dumps({"captureData": {}, "eventMetadata": {"eventId": "x", "inferenceTime": "2025-10-04T08:00:01Z"}})
        + "\n",
        json.dumps({"eventMetadata": {"eventId": "x"}}) + "\n",
        json.dumps([1, 2, 3]) + "\n",
        json.dumps({"captureData": {"endpointInput": {"mode": "INPUT"}},
                    "eventMetadata": {"eventId": "x", "inferenceTime": "2025-10-04T08:00:01Z"}}) + "\n",
        json.dumps({"captureData": {"endpointInput": good.endpoint_input.to_dict()},  # type: ignore[union-attr]
                    "eventMetadata": {"eventId": "x", "inferenceTime": "yesterday"}}) + "\n",
        _line(CaptureRecord("e1", START, good.endpoint_input, None)),
        _line(CaptureRecord("e2", START, good.endpoint_input, out_text)),
        _line(CaptureRecord("e3", START, good.endpoint_input, out_json_text)),
        _line(CaptureRecord("e4", START, good.endpoint_input, out_three)),
        _line(CaptureRecord("e5", START, good.endpoint_input, out_one)),
        _line(CaptureRecord("e6", START, None, good.endpoint_output)),
        _line(CaptureRecord("e7", START, not_image, good.endpoint_output)),
        _line(CaptureRecord("e8", START, bad_b64, good.endpoint_output)),
    ]
    hour = folder / "ep" / "AllTraffic" / "2025" / "10" / "04" / "08"
    path = hour / "00-00-000-00000000-0000-0000-0000-000000000000.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes("".join(lines).encode() + b"\xff\xfe garbage bytes\n")
    (path.parent / "01-00-000-11111111-0000-0000-0000-000000000000.jsonl").write_bytes(b"")  # empty file
    return {Issue.NOT_JSON: 3, Issue.INVALID_RECORD: 5, Issue.NO_OUTPUT: 1, Issue.BAD_OUTPUT: 2,
            Issue.TOO_MANY_CLASSES: 1, Issue.TOO_FEW_CLASSES: 1, Issue.NO_INPUT: 1, Issue.BAD_IMAGE: 2}
