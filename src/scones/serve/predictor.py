"""The model behind the endpoint: one ONNX Runtime session, sized for the machine.

ONNX Runtime parallelises inside an operator (intra-op threads). By default the
endpoint gives the session one intra-op thread and runs one batch per core side
by side on it (``session.run`` is safe to call concurrently); with ``--threads N``
it runs one batch at a time over N threads. No inter-op pool; threads do not spin
while idle: the event loop (HTTP, image decoding) needs those same cores between
batches. A warm-up at start pays ORT's first-run costs (allocations, kernel
selection) before ``/ping`` says the endpoint is healthy.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING

from scones.errors import ModelError
from scones.model_artifact import ModelArtifact

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime as ort

LOG = logging.getLogger(__name__)


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity and container cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def session_options(threads: int) -> ort.SessionOptions:
    """The serving session: every graph optimisation, ``threads`` intra-op threads, no spinning
    (spinning threads would steal the cores the HTTP side and the capture writer need)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def open_session(onnx_bytes: bytes, options: ort.SessionOptions) -> ort.InferenceSession:
    """An ONNX Runtime session on the CPU; bytes that are not a loadable graph (a corrupt or
    substituted ``model.onnx``) are a ``ModelError``, not onnxruntime's own exception types."""
    import onnxruntime as ort

    try:
        return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"ONNX Runtime cannot load model.onnx: {reason}",
                         hint="the artifact is corrupt or not a scones model; "
                              "export it again with 'scones train'") from exc


class Predictor:
    """Pixels ``uint8 [n, H, W, 3]`` in, probabilities ``float32 [n, K]`` out."""

    def __init__(self, artifact: ModelArtifact, *, threads: int | None = None) -> None:
        self.artifact = artifact
        self.spec = artifact.spec
        self.threads = threads or available_cpus()
        self.session = open_session(artifact.onnx_bytes, session_options(self.threads))
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name for o in self.session.get_outputs()}
        name = self.spec.input.name
        if name not in inputs:
            raise ModelError(f"model.onnx has no input named {name!r} (it has {sorted(inputs)})")
        if self.spec.output_name not in outputs:
            raise ModelError(f"model.onnx has no output named {self.spec.output_name!r} (it has {sorted(outputs)})")
        shape = inputs[name].shape
        self.fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        height, width = self.spec.input.height, self.spec.input.width
        for axis, expected in ((1, height), (2, width)):
            if len(shape) == 4 and isinstance(shape[axis], int) and shape[axis] not in (expected, -1, 0):
                raise ModelError(f"model.onnx expects input dimension {axis} = {shape[axis]}, but model.json "
                                 f"says {expected}", hint="the two members come from different exports")

    @property
    def height(self) -> int:
        return self.spec.input.height

    @property
    def width(self) -> int:
        return self.spec.input.width

    @property
    def classes(self) -> list[str]:
        return list(self.spec.classes)

    def max_batch(self, wanted: int) -> int:
        """``wanted`` unless the graph was exported with a fixed batch size."""
        return self.fixed_batch or wanted

    def predict(self, pixels: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.fixed_batch and pixels.shape[0] != self.fixed_batch:
            return np.concatenate([self.predict(pixels[i:i + 1]) for i in range(pixels.shape[0])])
        (probs,) = self.session.run([self.spec.output_name], {self.spec.input.name: pixels})
        return np.asarray(probs, dtype=np.float32)

    def warm_up(self, batch_sizes: tuple[int, ...] = (1,)) -> None:
        import numpy as np

        for n in sorted(set(batch_sizes)):
            out = self.predict(np.zeros((n, self.height, self.width, 3), dtype=np.uint8))
            if out.shape != (n, len(self.classes)):
                raise ModelError(f"model.onnx returned shape {out.shape} for {n} images; expected "
                                 f"({n}, {len(self.classes)}) for the classes in model.json")
        LOG.info("model warmed up (batch sizes %s, %d threads)", sorted(set(batch_sizes)), self.threads)


def serialize_probabilities(probs: np.ndarray, *, batch: bool) -> bytes:
    """The built-in algorithm's body: ``[0.82…, 0.17…]`` (``", "`` separators), a list of lists for a batch."""
    rows = probs.astype("float64").tolist()
    return json.dumps(rows if batch else rows[0]).encode("utf-8")
