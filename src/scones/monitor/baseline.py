"""``scones monitor baseline``: what normal looks like, measured on the model's validation data.

Runs the model over exactly the validation files the trainer held out
(``training.validation_files`` in model.json; the test split, with a warning, when a
model does not list them) and writes Model Monitor's ``statistics.json`` and
``constraints.json``, plus ``scones_baseline.json`` with what those schemas have
no place for: the classes, the model's checksum, validation accuracy and the
reliability table used to estimate accuracy from captured confidences.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np

from scones.errors import ModelError, NotFoundError
from scones.functions.helper import content_type_of
from scones.model_artifact import ModelArtifact, load_model
from scones.monitor.calibration import Reliability
from scones.monitor.dataset_source import LabelledImage, dataset_classes, iter_images
from scones.monitor.errors import BaselineError, MonitorError
from scones.monitor.features import IMAGE_FEATURES, ImageDecodeError, decode_image, image_stats
from scones.monitor.outputs import open_output
from scones.monitor.profile import profile
from scones.monitor.scan import CaptureColumns
from scones.monitor.schema import Constraints, Statistics, dumps, suggest_constraints
from scones.progress import progress
from scones.store import Store, open_store

LOG = logging.getLogger(__name__)

STATISTICS: Final = "statistics.json"
CONSTRAINTS: Final = "constraints.json"
INFO: Final = "scones_baseline.json"
INFO_VERSION: Final = 1
BATCH: Final = 256


@dataclass(frozen=True)
class BaselineInfo:
    """What the report needs beyond Model Monitor's two files."""

    classes: tuple[str, ...]
    model_sha256: str
    source: str
    item_count: int
    accuracy: float | None
    reliability: Reliability | None
    reliability_source: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": INFO_VERSION, "classes": list(self.classes), "model_sha256": self.model_sha256,
                "source": self.source, "item_count": self.item_count, "accuracy": self.accuracy,
                "reliability": None if self.reliability is None else self.reliability.to_dict(),
                "reliability_source": self.reliability_source, "created": self.created}

    @classmethod
    def from_dict(cls, raw: Any) -> BaselineInfo:
        try:
            if raw.get("format_version") != INFO_VERSION:
                raise BaselineError(f"{INFO} has format_version {raw.get('format_version')!r}, "
                                    f"expected {INFO_VERSION}", hint="rebuild it with 'scones monitor baseline'")
            rel = raw.get("reliability")
            classes = raw["classes"]
            if (not isinstance(classes, list) or len(classes) < 2 or len(set(classes)) != len(classes)
                    or not all(isinstance(c, str) and c for c in classes)):
                raise BaselineError(f"{INFO} must list at least two distinct class names under 'classes'",
                                    hint="rebuild it with 'scones monitor baseline'")
            return cls(tuple(classes), str(raw.get("model_sha256", "")),
                       str(raw.get("source", "")), int(raw.get("item_count", 0)),
                       None if raw.get("accuracy") is None else float(raw["accuracy"]),
                       None if rel is None else Reliability.from_dict(rel),
                       str(raw.get("reliability_source", "")), str(raw.get("created", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BaselineError(f"{INFO} is malformed: {exc!r}",
                                hint="rebuild it with 'scones monitor baseline'") from exc


@dataclass(frozen=True)
class Baseline:
    statistics: Statistics
    constraints: Constraints
    info: BaselineInfo


@dataclass(frozen=True)
class BaselineResult:
    baseline: Baseline
    location: str
    warnings: tuple[str, ...]


class Classifier:
    """ONNX Runtime over a scones model: decoded RGB pixels in, class probabilities out."""

    def __init__(self, artifact: ModelArtifact) -> None:
        import onnxruntime as ort

        from scones.serve.predictor import open_session

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.spec = artifact.spec
        self.session = open_session(artifact.onnx_bytes, options)

    def predict(self, images: Sequence[np.ndarray]) -> np.ndarray:
        from PIL import Image

        h, w = self.spec.input.height, self.spec.input.width
        batch = np.stack([img if img.shape[:2] == (h, w)
                          else np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.BILINEAR))
                          for img in images]).astype(np.uint8)
        try:
            (probs,) = self.session.run([self.spec.output_name], {self.spec.input.name: batch})
        except Exception as exc:
            raise ModelError(f"The model does not run as model.json describes it (input "
                             f"{self.spec.input.name!r}, output {self.spec.output_name!r}): {exc}",
                             hint="export the model again with 'scones train'") from exc
        probs = np.asarray(probs, dtype=np.float32)
        if probs.shape != (len(images), len(self.spec.classes)):
            raise ModelError(f"The model returned probabilities of shape {probs.shape} for {len(images)} images "
                             f"and {len(self.spec.classes)} classes", hint="export the model again with 'scones train'")
        return probs


def measure(classifier: Classifier, images: Sequence[LabelledImage], *,
            show_progress: bool = True) -> tuple[CaptureColumns, np.ndarray]:
    """Columns for labelled images run through the model, and the labels aligned with them."""
    k = len(classifier.spec.classes)
    probs = np.full((len(images), k), np.nan, dtype=np.float32)
    stats = np.full((len(images), len(IMAGE_FEATURES)), np.nan)
    types: Counter[str] = Counter()
    for start in progress(range(0, len(images), BATCH), enabled=show_progress, desc="baseline", unit="batch"):
        chunk = images[start:start + BATCH]
        decoded: list[tuple[int, np.ndarray]] = []
        for offset, item in enumerate(chunk):
            try:
                decoded.append((start + offset, decode_image(item.data)))
            except ImageDecodeError as exc:
                raise MonitorError(f"Validation image {item.name} does not decode: {exc}",
                                   hint="re-stage the dataset") from exc
            types[content_type_of(item.data)] += 1
        rows = np.array([r for r, _ in decoded])
        pixels = [p for _, p in decoded]
        probs[rows] = classifier.predict(pixels)
        stats[rows] = image_stats(pixels)
    columns = CaptureColumns(k, np.full(len(images), np.nan), probs, stats, types)
    return columns, np.array([img.label for img in images], dtype=np.int64)


def build_baseline(model_uri: str, data_uri: str, out_uri: str, *, show_progress: bool = True,
                   s3_client: Any | None = None) -> BaselineResult:
    """Run the model over its validation images and write the baseline folder at ``out_uri``."""
    artifact = load_model(model_uri)
    spec = artifact.spec
    data = open_store(data_uri, s3_client=s3_client)
    warnings: list[str] = []
    names = spec.training.get("validation_files")
    if isinstance(names, list) and names:
        split, wanted, source = "train", [str(n) for n in names], "validation_files"
    else:
        split, wanted, source = "test", None, "test split"
        warnings.append("model.json lists no training.validation_files; the baseline uses the test split")
    staged_classes = dataset_classes(data)
    if staged_classes is not None and staged_classes != list(spec.classes):
        raise MonitorError(f"The dataset's classes {staged_classes} differ from the model's {list(spec.classes)}",
                           hint="pass the dataset the model was trained on")
    images = list(iter_images(data, split, wanted))
    if not images:
        raise MonitorError(f"The {split} split at {data.uri} holds no images")
    columns, labels = measure(Classifier(artifact), images, show_progress=show_progress)
    confidence, predicted = columns.confidence, columns.predicted
    accuracy = float(np.mean(predicted == labels))
    reliability_raw = spec.metrics.get("reliability")
    if isinstance(reliability_raw, Mapping):
        reliability, rel_source = Reliability.from_dict(reliability_raw), "model.json metrics.reliability"
    else:
        reliability, rel_source = Reliability.measure(confidence, predicted == labels), f"baseline {source}"
        warnings.append(f"model.json has no metrics.reliability; calibration measured on the baseline's {source}")
    statistics = profile(columns, spec.classes)
    baseline = Baseline(statistics, suggest_constraints(statistics), BaselineInfo(
        tuple(spec.classes), spec.onnx_sha256, f"{source} of {data.uri}", len(images), accuracy, reliability,
        rel_source, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    for text in warnings:
        LOG.info("%s", text)  # returned in the result too; the CLI prints them as warnings
    location = write_baseline(baseline, out_uri, s3_client=s3_client)
    return BaselineResult(baseline, location, tuple(warnings))


def write_baseline(baseline: Baseline, out_uri: str, *, s3_client: Any | None = None) -> str:
    parent, name = open_output(out_uri, s3_client=s3_client)
    with parent.publish(name, replaces=(STATISTICS, CONSTRAINTS, INFO)) as staging:
        staging.put_text(STATISTICS, dumps(baseline.statistics.to_dict()))
        staging.put_text(CONSTRAINTS, dumps(baseline.constraints.to_dict()))
        staging.put_text(INFO, dumps(baseline.info.to_dict()))
    return parent.uri_for(name)


def _read_json(store: Store, key: str) -> Any:
    try:
        return json.loads(store.get_text(key))
    except NotFoundError as exc:
        raise BaselineError(f"No {key} in the baseline at {store.uri}",
                            hint="build one with 'scones monitor baseline' or pass --baseline") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{store.uri_for(key)} is not valid JSON: {exc}") from exc


def load_baseline(uri: str, *, s3_client: Any | None = None) -> Baseline:
    store = open_store(uri, s3_client=s3_client)
    statistics = Statistics.from_dict(_read_json(store, STATISTICS))
    constraints = Constraints.from_dict(_read_json(store, CONSTRAINTS))
    info = BaselineInfo.from_dict(_read_json(store, INFO))
    return Baseline(statistics, constraints, info)


def baseline_exists(uri: str, *, s3_client: Any | None = None) -> bool:
    try:
        return open_store(uri, s3_client=s3_client).exists(STATISTICS)
    except NotFoundError:
        return False
