"""The HTTP surface: SageMaker's container contract and the SageMaker Runtime API over one model.

Routes:

- ``GET /ping``: 200 once the model is loaded and warmed up (503 before and while stopping).
- ``POST /invocations``: the container contract; errors are the container's own 4xx JSON.
- ``POST /endpoints/{name}/invocations``: ``InvokeEndpoint`` as boto3 sends it; errors in
  the shapes botocore parses (``scones.serve.errors``), response headers as AWS sends them.
- ``GET /metrics``: Prometheus text.

The endpoint's life has named steps: ``prepare`` (load the model, warm up, open the
capture store; fails fast, before any socket listens), ``startup`` (start the
batcher and the capture writer), serve, ``shutdown`` (the server has stopped
taking requests and finished the ones in flight; run what is queued, drain capture).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scones.model_artifact import load_model
from scones.serve.batching import BatcherClosed, MicroBatcher
from scones.serve.capture import CaptureWriter, Invocation
from scones.serve.config import ServeConfig, valid_name
from scones.serve.errors import (
    ACCOUNT_ID,
    JSON_TYPE,
    ClientDisconnected,
    EndpointNotFound,
    InferenceTimeout,
    InvalidHeader,
    InvocationError,
    NotAcceptable,
    NotReady,
    PayloadTooLarge,
    ServerSideError,
    container_error_response,
    runtime_error_response,
)
from scones.serve.images import BATCH_TYPE, decode_payload, media_type
from scones.serve.metrics import CONTENT_TYPE as METRICS_TYPE
from scones.serve.metrics import Metrics
from scones.serve.predictor import Predictor, available_cpus, serialize_probabilities
from scones.serve.process import return_large_blocks_to_the_os

if TYPE_CHECKING:
    import numpy as np

LOG = logging.getLogger(__name__)

CONFIG_ENV: Final = "SCONES_SERVE_CONFIG"
INFERENCE_ID_HEADER: Final = "x-amzn-sagemaker-inference-id"
CUSTOM_ATTRIBUTES_HEADER: Final = "x-amzn-sagemaker-custom-attributes"
TARGET_VARIANT_HEADER: Final = "x-amzn-sagemaker-target-variant"
#: Bodies up to this size are decoded on the event loop; larger ones in a thread.
INLINE_DECODE_BYTES: Final = 64 * 1024
#: After refusing a request, read (and discard) up to this much of its body, so the client can finish
#: sending and read the answer on a connection that stays usable; beyond it the connection is closed.
DRAIN_LIMIT_BYTES: Final = 64 * 1024 * 1024
ACCEPTED: Final = frozenset({"*/*", "application/*", JSON_TYPE})


class Endpoint:
    """One served model: predictor, batcher, capture writer and metrics, with a start and an end."""

    def __init__(self, config: ServeConfig, *, predictor: Predictor | None = None) -> None:
        self.config = config
        self.metrics = Metrics()
        self.predictor = predictor
        self.capture: CaptureWriter | None = None
        self.batcher: MicroBatcher | None = None
        self.ready = False
        self._prepared = False
        self._preparing = 0  # requests being read and decoded: they will join a batch soon

    # -- life ----------------------------------------------------------------
    def prepare(self) -> None:
        """Everything that can fail because of the user's input, before a socket listens."""
        if self._prepared:
            return
        cfg = self.config
        if self.predictor is None:
            # --threads: one model run at a time over that many ORT threads. By default, as many
            # single-threaded runs side by side as this worker's share of the cores: faster on a
            # small machine (docs/performance.md, Endpoint), and no thread of a run waits for
            # another that the HTTP side has pushed off its core.
            self.predictor = Predictor(load_model(cfg.model), threads=cfg.threads or 1)
        self.predictor.warm_up((1, self.max_batch_size))
        if cfg.capture is not None and self.capture is None:
            self.capture = CaptureWriter(cfg.capture, endpoint_name=cfg.endpoint_name, variant=cfg.variant,
                                         metrics=self.metrics)
            self.capture.check_destination()
        self._prepared = True

    @property
    def model_runs(self) -> int:
        """Batches run at once: one with --threads, else one single-threaded run per core of this worker."""
        if self.config.threads is not None:
            return 1
        return max(1, available_cpus() // self.config.workers)

    @property
    def max_batch_size(self) -> int:
        assert self.predictor is not None
        return self.predictor.max_batch(self.config.max_batch_size)

    async def startup(self) -> None:
        await run_in_threadpool(self.prepare)
        self.batcher = MicroBatcher(self._predict, max_batch_size=self.max_batch_size,
                                    max_wait=self.config.max_wait_ms / 1000, on_batch=self.metrics.observe_batch,
                                    more_coming=lambda: self._preparing > 0, parallel=self.model_runs)
        await self.batcher.start()
        if self.capture is not None:
            self.capture.start()
        self.ready = True
        LOG.info("endpoint %s/%s ready (model %s, capture %s)", self.config.endpoint_name, self.config.variant,
                 self.config.model, self.config.capture.destination if self.config.capture else "off")

    async def shutdown(self) -> None:
        self.ready = False
        if self.batcher is not None:
            await self.batcher.stop()
        if self.capture is not None:
            drained = await run_in_threadpool(self.capture.close)
            LOG.info("data capture %s", "drained" if drained else "NOT fully drained")

    def _predict(self, pixels: np.ndarray) -> np.ndarray:
        assert self.predictor is not None
        return self.predictor.predict(pixels)

    # -- requests --------------------------------------------------------------
    async def ping(self, request: Request) -> Response:
        return Response(status_code=200 if self.ready else 503)

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=METRICS_TYPE)

    async def invocations(self, request: Request) -> Response:
        return await self._handle(request, route="invocations", runtime=False)

    async def runtime_invocations(self, request: Request) -> Response:
        return await self._handle(request, route="runtime", runtime=True)

    async def _handle(self, request: Request, *, route: str, runtime: bool) -> Response:
        started = time.perf_counter()
        when = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        try:
            if runtime:
                self._check_runtime_request(request)
            response = await self._invoke(request, when, request_id, runtime=runtime)
        except InvocationError as exc:
            response = self._error(exc, runtime=runtime, request_id=request_id)
            await _drain(request)
        except ClientDisconnect:
            response = self._error(ClientDisconnected("the client disconnected before sending its whole body"),
                                   runtime=runtime, request_id=request_id)
        except Exception as exc:  # a bug, not the caller's fault: log it, answer like a failed container
            LOG.exception("unexpected error while answering an invocation")
            response = self._error(ServerSideError(f"internal error: {type(exc).__name__}"),
                                   runtime=runtime, request_id=request_id)
        self.metrics.observe_request(route, response.status_code, time.perf_counter() - started)
        return response

    def _error(self, exc: InvocationError, *, runtime: bool, request_id: str) -> Response:
        self.metrics.count_error(exc.kind)
        if isinstance(exc, ServerSideError):
            LOG.warning("invocation failed: %s", exc.message)
        if runtime:
            return runtime_error_response(exc, endpoint_name=self.config.endpoint_name, region=self.config.region,
                                          request_id=request_id)
        return container_error_response(exc)

    def _check_runtime_request(self, request: Request) -> None:
        """What the SageMaker Runtime service refuses before a container sees the request.

        Limits and messages: docs/aws-facts.md, SageMaker Runtime.
        """
        name = request.path_params["name"]
        if not valid_name(name):
            raise InvalidHeader(f"1 validation error detected: Value '{name}' at 'endpointName' failed to satisfy "
                                f"constraint: Member must satisfy regular expression pattern: "
                                f"^[a-zA-Z0-9](-*[a-zA-Z0-9])* and have length less than or equal to 63")
        if name != self.config.endpoint_name:
            raise EndpointNotFound(f"Endpoint {name} of account {ACCOUNT_ID} not found.")
        headers = request.headers
        inference_id = headers.get(INFERENCE_ID_HEADER)
        if inference_id is not None and not _valid_inference_id(inference_id):
            raise InvalidHeader("1 validation error detected: Value at 'inferenceId' failed to satisfy constraint: "
                                "Member must have length between 1 and 64, start with a non-space character "
                                "and contain only printable characters")
        attributes = headers.get(CUSTOM_ATTRIBUTES_HEADER)
        if attributes is not None and (len(attributes) > 1024 or not all(32 <= ord(c) < 127 for c in attributes)):
            raise InvalidHeader("1 validation error detected: Value at 'customAttributes' failed to satisfy "
                                "constraint: Member must have length less than or equal to 1024 and contain "
                                "only visible US-ASCII characters")
        target = headers.get(TARGET_VARIANT_HEADER)
        if target is not None and target != self.config.variant:
            raise InvalidHeader(f"Variant {target} not found for endpoint {name}; "
                                f"this endpoint serves variant {self.config.variant}")

    async def _read_body(self, request: Request) -> bytes:
        limit = self.config.max_payload_bytes
        declared = request.headers.get("content-length")
        too_big = PayloadTooLarge(f"the request body is larger than {limit} bytes (SageMaker's 6 MiB "
                                  f"InvokeEndpoint limit); send a smaller image or split the batch")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_big
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    async def _invoke(self, request: Request, when: datetime, request_id: str, *, runtime: bool) -> Response:
        if not self.ready or self.batcher is None or self.predictor is None:
            raise NotReady("the model is not loaded yet (or the endpoint is stopping); retry shortly")
        accept = request.headers.get("accept")
        if accept and not {media_type(a) for a in accept.split(",")} & ACCEPTED:
            raise NotAcceptable(f"Accept {accept!r} cannot be served; this model answers application/json")
        content_type = request.headers.get("content-type")
        height, width, limits = self.predictor.height, self.predictor.width, self.config.limits
        self._preparing += 1
        try:
            body = await self._read_body(request)
            if len(body) > INLINE_DECODE_BYTES or media_type(content_type) == BATCH_TYPE:
                pixels, batch = await run_in_threadpool(decode_payload, body, content_type, height, width, limits)
            else:
                pixels, batch = decode_payload(body, content_type, height, width, limits)
        finally:
            self._preparing -= 1
        try:
            probs = await self.batcher.submit(pixels, self.config.invocation_timeout)
        except TimeoutError as exc:
            raise InferenceTimeout(f"the model did not answer within {self.config.invocation_timeout:g} s") from exc
        except BatcherClosed as exc:
            raise NotReady("the endpoint is stopping; retry on another instance") from exc
        except Exception as exc:  # onnxruntime failed on this batch
            raise ServerSideError(f"the model failed on this input: {exc}") from exc
        output = serialize_probabilities(probs, batch=batch)
        # Queued before the response goes out, so a graceful stop drains it; never waits on storage.
        if self.capture is not None and self.capture.should_sample():
            self.capture.submit(Invocation(when=when, request_body=body, request_content_type=content_type,
                                           response_body=output, response_content_type=JSON_TYPE,
                                           inference_id=request.headers.get(INFERENCE_ID_HEADER)))
        elif self.capture is not None:
            self.metrics.count_capture("sampled_out")
        headers = {"x-amzn-RequestId": request_id}
        if runtime:
            headers["x-Amzn-Invoked-Production-Variant"] = self.config.variant
        return Response(output, media_type=JSON_TYPE, headers=headers)


async def _drain(request: Request) -> None:
    drained = 0
    try:
        async for chunk in request.stream():
            drained += len(chunk)
            if drained > DRAIN_LIMIT_BYTES:
                return
    except (RuntimeError, ClientDisconnect):  # already read, or the client is gone: nothing to drain
        return


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods answer in JSON like everything else."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": "not_found" if exc.status_code == 404 else "http_error", "message": exc.detail},
                        status_code=exc.status_code, headers=exc.headers)


def _valid_inference_id(value: str) -> bool:
    return 1 <= len(value) <= 64 and not value[0].isspace() and value.isprintable()


def build_app(config: ServeConfig, *, endpoint: Endpoint | None = None) -> Starlette:
    """The ASGI app for ``config``; ``endpoint`` lets the caller ``prepare`` it first (fail fast)."""
    ep = endpoint or Endpoint(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ep.startup()
        try:
            yield
        finally:
            await ep.shutdown()

    routes = [
        Route("/ping", ep.ping, methods=["GET"]),
        Route("/invocations", ep.invocations, methods=["POST"]),
        Route("/endpoints/{name}/invocations", ep.runtime_invocations, methods=["POST"]),
        Route("/metrics", ep.metrics_text, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.endpoint = ep
    return app


def app_from_env() -> Starlette:
    """uvicorn factory for ``--workers N``: each worker process builds its own endpoint."""
    return_large_blocks_to_the_os()  # a fresh process: the parent's setting is not inherited
    config = ServeConfig.from_json(os.environ[CONFIG_ENV])
    endpoint = Endpoint(config)
    endpoint.prepare()
    return build_app(config, endpoint=endpoint)
