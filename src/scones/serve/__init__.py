"""The endpoint: SageMaker's hosting contract and Runtime API over an ONNX model, with Data Capture.

Use from Python (the workflow, the demo, benchmarks)::

    from scones.serve import running_endpoint

    with running_endpoint("model.tar.gz", endpoint_name="scones-endpoint", capture_dest="file:///tmp/dc") as ep:
        runtime = boto3.client("sagemaker-runtime", endpoint_url=ep.url, region_name="us-east-1",
                               aws_access_key_id="x", aws_secret_access_key="x")
        runtime.invoke_endpoint(EndpointName=ep.endpoint_name, ContentType="image/png", Body=png)
    # leaving the block sent SIGTERM: every answered request is now in the capture files

or from the shell: ``scones serve --model model.tar.gz [--capture | --capture-dest URI]``.

Decisions worth knowing (details in the modules; the AWS behaviour they follow is in
docs/aws-facts.md, sections SageMaker hosting container, SageMaker Runtime and Data Capture):

- Data Capture is off unless asked for. ``--capture-dest URI`` turns it on; ``--capture``
  alone writes to ``Settings.default_uri("data_capture")`` (``<SCONES_HOME>/store/<bucket>/data_capture``,
  the local twin of the classic project's ``s3://<bucket>/data_capture``). Files land under
  ``<dest>/<endpoint>/<variant>/yyyy/mm/dd/hh/`` exactly as SageMaker lays them out.
- Only answered (2xx) invocations are captured; whether SageMaker captures failed ones is unverified.
- A request without ``Content-Type`` is treated as ``application/x-image`` (the image is sniffed).
- Container errors are ``{"error": kind, "message": text}`` with their own 4xx status on
  ``/invocations``; the runtime route wraps them in ``ModelError`` (424) as AWS does, and answers
  what the Runtime service itself refuses (unknown endpoint, bad name or header, body over 6 MiB:
  HTTP 413) as ``ValidationError``.
- Importing this package is cheap; onnxruntime, numpy and uvicorn load when an endpoint starts.
"""

from scones.serve.runner import EndpointStartError, RunningEndpoint, running_endpoint

__all__ = ["EndpointStartError", "RunningEndpoint", "running_endpoint"]
