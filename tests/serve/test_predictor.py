from __future__ import annotations

import json

import numpy as np
import pytest

from scones.errors import ModelError
from scones.model_artifact import InputSpec, ModelSpec, build_tarball, read_model_tarball
from scones.serve.predictor import Predictor, serialize_probabilities
from scones.testing import make_tiny_model, tiny_onnx_bytes


def test_predicts_rows_that_sum_to_one() -> None:
    predictor = Predictor(make_tiny_model(), threads=1)
    predictor.warm_up((1, 4))
    probs = predictor.predict(np.zeros((3, 32, 32, 3), dtype=np.uint8))
    assert probs.shape == (3, 2) and np.allclose(probs.sum(axis=1), 1)


def test_body_is_serialised_like_the_built_in_algorithm() -> None:
    probs = np.array([[0.8227921724319458, 0.1772077977657318]], dtype=np.float32)
    assert serialize_probabilities(probs, batch=False) == b"[0.8227921724319458, 0.1772077977657318]"
    assert json.loads(serialize_probabilities(np.vstack([probs, probs]), batch=True)) == [
        [0.8227921724319458, 0.1772077977657318]] * 2


def test_a_model_json_that_does_not_match_the_graph_is_refused() -> None:
    spec = ModelSpec(classes=["a", "b", "c"], input=InputSpec(height=32, width=32))
    artifact = read_model_tarball(build_tarball(tiny_onnx_bytes(2), spec))  # graph has 2 outputs, json says 3
    with pytest.raises(ModelError, match=r"expected \(1, 3\)"):
        Predictor(artifact, threads=1).warm_up()


def test_a_graph_without_the_pixels_input_is_refused() -> None:
    spec = ModelSpec(classes=["a", "b"], input=InputSpec(name="images"))
    artifact = read_model_tarball(build_tarball(tiny_onnx_bytes(2), spec))
    with pytest.raises(ModelError, match="no input named 'images'"):
        Predictor(artifact, threads=1)
