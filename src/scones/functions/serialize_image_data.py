"""serializeImageData: ``{"s3_bucket", "s3_key"}`` -> the image as base64 in ``body``.

Reads S3 on AWS and the local store when ``SCONES_LOCAL_STORE_ROOT`` is set
(the local Lambda runtime sets it); the code path is otherwise the same.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import boto3

from scones.functions.helper import ImageBody, ImageRequest, ok, read_object

LOG = logging.getLogger(__name__)
_CLIENT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _build_s3_client() -> Any:
    return boto3.session.Session().client("s3")


def s3_client() -> Any:
    """One S3 client per warm container, built on first use (client creation is not thread-safe)."""
    with _CLIENT_LOCK:
        return _build_s3_client()


def serialize(request: ImageRequest) -> ImageBody:
    data = read_object(request.s3_bucket, request.s3_key, s3_client)
    LOG.debug("read s3://%s/%s (%d bytes)", request.s3_bucket, request.s3_key, len(data))
    return ImageBody.from_image(data, request)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    return ok(serialize(ImageRequest.from_event(event)))
