"""classifyImage: send the image in ``body`` to the SageMaker endpoint and add its ``inferences``.

The endpoint name comes from ``ENDPOINT_NAME``. Locally the runtime points
boto3 at ``scones serve`` through ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``, the
SDK's standard override (docs/aws-facts.md, SageMaker Runtime), so this file is
the one deployed to AWS unchanged.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from typing import Any

import boto3
from botocore.config import Config

from scones.functions.helper import ImageBody, content_type_of, ok, parse_probabilities, required_env

LOG = logging.getLogger(__name__)
_CLIENT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _build_runtime_client(endpoint_override: str) -> Any:
    # Keyed by the override so a runtime that re-points the function gets a fresh client.
    config = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 3})
    return boto3.session.Session().client("sagemaker-runtime", config=config)


def runtime_client() -> Any:
    with _CLIENT_LOCK:
        return _build_runtime_client(os.environ.get("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", ""))


def classify(body: ImageBody, endpoint_name: str, client: Any) -> ImageBody:
    image = body.image_bytes()
    response = client.invoke_endpoint(EndpointName=endpoint_name, ContentType=content_type_of(image),
                                      Accept="application/json", Body=image)
    inferences = parse_probabilities(response["Body"].read())
    LOG.debug("%s -> %s", body.s3_key, inferences)
    return body.with_inferences(inferences)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    body = ImageBody.from_event(event)
    return ok(classify(body, required_env("ENDPOINT_NAME"), runtime_client()))
