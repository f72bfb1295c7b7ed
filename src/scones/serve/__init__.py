"""The endpoint: SageMaker's hosting contract and Runtime API over an ONNX model, with Data Capture.

Importing this package is cheap; onnxruntime, numpy and uvicorn load when an
endpoint starts.
"""

from scones.serve.runner import EndpointStartError, RunningEndpoint, running_endpoint

__all__ = ["EndpointStartError", "RunningEndpoint", "running_endpoint"]
