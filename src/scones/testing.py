"""Small, real models for tests and benchmarks that must not depend on training.

``make_tiny_model`` builds a genuine ONNX classifier in the scones artifact format
(uint8 NHWC ``pixels`` in, ``probabilities`` out): it averages each colour
channel and applies a fixed linear layer and a softmax. Its predictions depend on
the image (a darker or redder image moves them), which is what monitoring and
endpoint tests need, and it runs in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from scones.model_artifact import InputSpec, ModelArtifact, ModelSpec, build_tarball, read_model_tarball


def tiny_onnx_bytes(num_classes: int, *, seed: int = 0, scale: float = 8.0) -> bytes:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((3, num_classes)) * scale).astype(np.float32)
    bias = (rng.standard_normal(num_classes) * 0.5).astype(np.float32)
    nodes = [
        helper.make_node("Cast", ["pixels"], ["pixels_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["pixels_f", "axes"], ["mean_rgb"], keepdims=0),
        helper.make_node("Div", ["mean_rgb", "full_scale"], ["unit_rgb"]),
        helper.make_node("MatMul", ["unit_rgb", "weights"], ["logits_nb"]),
        helper.make_node("Add", ["logits_nb", "bias"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), "full_scale"),
        numpy_helper.from_array(weights, "weights"),
        numpy_helper.from_array(bias, "bias"),
    ]
    graph = helper.make_graph(
        nodes, "scones_tiny",
        [helper.make_tensor_value_info("pixels", TensorProto.UINT8, ["batch", "height", "width", 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", num_classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="scones.testing")
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model.SerializeToString()


def make_tiny_model(classes: Sequence[str] = ("bicycle", "motorcycle"), *, height: int = 32, width: int = 32,
                    seed: int = 0) -> ModelArtifact:
    spec = ModelSpec(classes=list(classes), input=InputSpec(height=height, width=width),
                     training={"arch": "tiny-mean-rgb", "seed": seed})
    return read_model_tarball(build_tarball(tiny_onnx_bytes(len(classes), seed=seed), spec))


def tiny_model_tarball(classes: Sequence[str] = ("bicycle", "motorcycle"), **kwargs: int) -> bytes:
    artifact = make_tiny_model(classes, **kwargs)
    return build_tarball(artifact.onnx_bytes, artifact.spec)
