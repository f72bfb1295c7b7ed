"""``scones threshold``: score the model's own validation part and the test split with the
artifact's ONNX graph, then pick the threshold on validation and state what to expect on test."""

from __future__ import annotations

from scones.errors import ModelError, UsageError
from scones.model_artifact import load_model
from scones.store import open_store
from scones.train.threshold import Recommendation, recommend_threshold


def recommend_for_model(model_uri: str, data_uri: str, *, target_precision: float | None = None,
                        target_coverage: float | None = None) -> Recommendation:
    from scones.train.data import load_dataset
    from scones.train.export import onnx_probabilities

    # Check the arguments before the slow part.
    if (target_precision is None) == (target_coverage is None):
        raise UsageError("Give exactly one of --target-precision and --target-coverage")
    artifact = load_model(model_uri)
    names = artifact.spec.training.get("validation_files")
    if not isinstance(names, list) or not names:
        raise ModelError(f"{model_uri} does not record its validation files (training.validation_files)",
                         hint="retrain the model with 'scones train'")
    dataset = load_dataset(open_store(data_uri))
    if dataset.classes != artifact.classes:
        raise ModelError(f"The model's classes {artifact.classes} differ from the dataset's {dataset.classes}",
                         hint="pass the dataset the model was trained on with --data")
    position = {name: i for i, name in enumerate(dataset.train.files)}
    missing = [n for n in names if n not in position]
    if missing:
        raise ModelError(f"{len(missing)} validation file(s) of the model are not in {data_uri} "
                         f"(e.g. {missing[0]})", hint="pass the dataset the model was trained on with --data")
    import numpy as np

    val = dataset.train.subset(np.array([position[n] for n in names]), "validation")
    val_probs = onnx_probabilities(artifact.onnx_bytes, val.images)
    test_probs = onnx_probabilities(artifact.onnx_bytes, dataset.test.images)
    return recommend_threshold(val_probs, val.labels, test_probs, dataset.test.labels,
                               target_precision=target_precision, target_coverage=target_coverage)
