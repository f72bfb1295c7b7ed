"""``scones serve``: one model behind SageMaker's hosting contract and Runtime API.

Also the container entry point: ``docker run <image> serve`` runs ``python -m
scones serve`` with no options, so the model defaults to ``/opt/ml/model`` and the
port to ``SAGEMAKER_BIND_TO_PORT`` (else 8080); the image sets
``SCONES_SERVE_HOST=0.0.0.0`` (docs/aws-facts.md, SageMaker hosting container).
"""

from __future__ import annotations

from pathlib import Path

import click

from scones.cli.context import AppContext, FiniteFloatRange, given_options, pass_app
from scones.errors import UsageError

CONTAINER_MODEL_DIR = "/opt/ml/model"


@click.command("serve")
@click.option("--model", "model", envvar="SCONES_SERVE_MODEL", metavar="URI",
              help="model.tar.gz (path, file:// or s3://) or a folder holding it or its extracted members "
                   f"[default: {CONTAINER_MODEL_DIR} when it exists]")
@click.option("--host", envvar="SCONES_SERVE_HOST", default="127.0.0.1", show_default=True,
              help="Address to bind (use 0.0.0.0 only inside a container).")
@click.option("--port", envvar="SAGEMAKER_BIND_TO_PORT", type=click.IntRange(0, 65535), default=8080,
              show_default=True, help="Port to bind (0: any free port); SAGEMAKER_BIND_TO_PORT overrides the default.")
@click.option("--endpoint-name", default="scones-endpoint", show_default=True,
              help="Endpoint name the runtime route answers to: POST /endpoints/NAME/invocations.")
@click.option("--variant", default="AllTraffic", show_default=True, help="Production variant name.")
@click.option("--capture-dest", metavar="URI",
              help="Enable Data Capture into this store URI (folder, file:// or s3://).")
@click.option("--capture", "capture_flag", is_flag=True,
              help="Enable Data Capture into the default store: <SCONES_HOME>/store/<bucket>/data_capture.")
@click.option("--sampling-percentage", type=click.IntRange(0, 100), default=100, show_default=True,
              help="Share of invocations captured (DataCaptureConfig.InitialSamplingPercentage).")
@click.option("--capture-mode", type=click.Choice(["Input", "Output", "InputAndOutput"]),
              default="InputAndOutput", show_default=True, help="What is captured (CaptureOptions).")
@click.option("--capture-csv-content-type", "csv_types", multiple=True, default=("text/csv",), show_default=True,
              help="Content types captured as CSV text (CaptureContentTypeHeader.CsvContentTypes); repeatable.")
@click.option("--capture-json-content-type", "json_types", multiple=True, default=("application/json",),
              show_default=True,
              help="Content types captured as JSON text (CaptureContentTypeHeader.JsonContentTypes); repeatable. "
                   "Anything else is captured as BASE64.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (each loads the model; ONNX Runtime threads are split between them).")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="One model run at a time over N ONNX Runtime threads [default: one single-threaded run "
                   "per CPU of the worker, side by side].")
@click.option("--max-batch-size", type=click.IntRange(1, 1024), default=4, show_default=True,
              help="Most images per model run (micro-batching); each core runs its own batches. Small "
                   "batches stay in the CPU's cache: measured fastest on 2 cores (docs/serve.md).")
@click.option("--max-wait-ms", type=FiniteFloatRange(0, 1000), default=2.0, show_default=True,
              help="Longest a request waits for others to join its batch.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@click.option("--ready-file", type=click.Path(dir_okay=False), hidden=True,
              help="Write {\"port\": N} here once the socket is bound (used by running_endpoint).")
@pass_app
def serve(app: AppContext, model: str | None, host: str, port: int, endpoint_name: str, variant: str,
          capture_dest: str | None, capture_flag: bool, sampling_percentage: int, capture_mode: str,
          csv_types: tuple[str, ...], json_types: tuple[str, ...], workers: int, threads: int | None,
          max_batch_size: int, max_wait_ms: float, log_level: str,
          ready_file: str | None) -> None:
    """Serve a model.tar.gz with SageMaker's hosting contract, Runtime API and Data Capture.

    Routes: GET /ping, POST /invocations, POST /endpoints/NAME/invocations, GET /metrics.
    Stop with Ctrl-C or SIGTERM; captured records are written before it exits.
    """
    import logging

    from scones.serve.capture import CaptureConfig
    from scones.serve.config import ServeConfig
    from scones.serve.server import run_server

    if model is None:
        if not Path(CONTAINER_MODEL_DIR).is_dir():
            raise UsageError("No model given", hint=f"pass --model path/to/model.tar.gz (or mount the extracted "
                                                     f"model at {CONTAINER_MODEL_DIR})")
        model = CONTAINER_MODEL_DIR
    if capture_flag and capture_dest is None:
        capture_dest = app.default_uri("data_capture")
    if capture_dest is None:
        given = given_options(("sampling_percentage", "capture_mode", "csv_types", "json_types"))
        if given:
            raise UsageError(f"{', '.join(given)} configure Data Capture, which is off",
                             hint="add --capture (or --capture-dest URI) to turn it on")
    capture = None
    if capture_dest is not None:
        capture_input, capture_output = CaptureConfig.mode_flags(capture_mode)
        capture = CaptureConfig(capture_dest, sampling_percentage=sampling_percentage,
                                capture_input=capture_input, capture_output=capture_output,
                                csv_content_types=tuple(csv_types), json_content_types=tuple(json_types))
    config = ServeConfig(model=model, host=host, port=port, endpoint_name=endpoint_name, variant=variant,
                         capture=capture, workers=workers, threads=threads, max_batch_size=max_batch_size,
                         max_wait_ms=max_wait_ms, log_level=log_level)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if capture is not None:
        click.echo(f"Data Capture: {capture.destination}/{endpoint_name}/{variant}/ "
                   f"({sampling_percentage}% of invocations)", err=True)
    run_server(config, ready_file=ready_file)
