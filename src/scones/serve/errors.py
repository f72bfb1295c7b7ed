"""Invocation errors and the one table that turns them into HTTP responses.

An invocation error carries its data (status, kind, message) like starlette's
``HTTPException``; nothing else in the server builds an error body. The same
exception is answered in two shapes:

- on the container route (``/invocations``) as the container's own answer: its
  HTTP status and ``{"error": kind, "message": text}``;
- on the runtime route (``/endpoints/{name}/invocations``) the way the
  SageMaker Runtime service answers boto3 (docs/aws-facts.md, SageMaker Runtime): errors
  the *service* raises before the container sees the request are
  ``ValidationError``; a container error is wrapped in ``ModelError`` (HTTP 424)
  with ``OriginalStatusCode`` and ``OriginalMessage``.

The class for an exception is found by walking its MRO through ``AWS_SHAPES``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Final

from starlette.responses import Response

from scones.local_account import LOCAL_ACCOUNT

JSON_TYPE: Final = "application/json"
ACCOUNT_ID: Final = LOCAL_ACCOUNT


class InvocationError(Exception):
    """Something about one request the caller can fix (or, for subclasses below, the model failed)."""

    status_code: ClassVar[int] = 400
    kind: ClassVar[str] = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, kind={self.kind!r}, message={self.message!r})"


class EmptyBody(InvocationError):
    kind = "empty_body"


class NotAnImage(InvocationError):
    kind = "not_an_image"


class TruncatedImage(NotAnImage):
    kind = "truncated_image"


class ImageTooLarge(InvocationError):
    """Too many pixels (a decompression bomb or a huge photo): refused before decoding."""

    kind = "pixel_limit"


class MalformedBatch(InvocationError):
    kind = "malformed_batch"


class ClientDisconnected(InvocationError):
    """The caller went away before sending its whole body (nobody reads the answer; it is counted)."""

    kind = "client_disconnect"


class UnsupportedContentType(InvocationError):
    status_code = 415
    kind = "unsupported_content_type"


class NotAcceptable(InvocationError):
    status_code = 406
    kind = "not_acceptable"


class ServiceValidationError(InvocationError):
    """Refused by the SageMaker Runtime service itself, before any container sees the request."""

    kind = "validation"


class PayloadTooLarge(ServiceValidationError):
    status_code = 413
    kind = "payload_too_large"


class EndpointNotFound(ServiceValidationError):
    kind = "endpoint_not_found"


class InvalidHeader(ServiceValidationError):
    kind = "invalid_header"


class ServerSideError(InvocationError):
    """Not the caller's fault: the model failed, timed out, or is not loaded yet."""

    status_code = 500
    kind = "inference_failed"


class InferenceTimeout(ServerSideError):
    status_code = 504
    kind = "timeout"


class NotReady(ServerSideError):
    status_code = 503
    kind = "not_ready"


@dataclass(frozen=True)
class AwsShape:
    """How the runtime route reports an error class: AWS error code and HTTP status (None: the error's own)."""

    code: str
    http_status: int | None


#: Walked along the exception's MRO; the first class listed wins.
AWS_SHAPES: Final[Mapping[type[InvocationError], AwsShape]] = MappingProxyType({
    ServiceValidationError: AwsShape("ValidationError", None),
    NotReady: AwsShape("ServiceUnavailable", 503),
    InvocationError: AwsShape("ModelError", 424),
})


def aws_shape(exc: InvocationError) -> AwsShape:
    for cls in type(exc).__mro__:
        shape = AWS_SHAPES.get(cls)
        if shape is not None:
            return shape
    raise AssertionError(f"no AWS shape for {type(exc).__name__}")  # InvocationError is always in the MRO


def container_body(exc: InvocationError) -> bytes:
    return json.dumps({"error": exc.kind, "message": exc.message}).encode("utf-8")


def container_error_response(exc: InvocationError) -> Response:
    """The container's own answer (``/invocations``)."""
    return Response(container_body(exc), status_code=exc.status_code, media_type=JSON_TYPE)


def runtime_error_response(exc: InvocationError, *, endpoint_name: str, region: str,
                           request_id: str | None = None) -> Response:
    """The SageMaker Runtime service's answer, in the shape botocore parses into ``ClientError``."""
    shape = aws_shape(exc)
    body: dict[str, object]
    if shape.code == "ModelError":
        original = container_body(exc).decode("utf-8")
        # OriginalStatusCode 0 is what AWS reports when the container timed out; the message is AWS's
        # (docs/aws-facts.md, SageMaker Runtime).
        original_status = 0 if isinstance(exc, InferenceTimeout) else exc.status_code
        side = "client" if 400 <= original_status < 500 else "server"
        log_group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
        body = {
            "Message": (f"Received {side} error ({original_status}) from primary with message \"{original}\". "
                        f"See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                        f"#logEventViewer:group={log_group} in account {ACCOUNT_ID} for more information."),
            "OriginalStatusCode": original_status,
            "OriginalMessage": original,
            "LogStreamArn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{log_group}",
        }
    else:
        body = {"Message": exc.message}
    headers = {"x-amzn-ErrorType": shape.code, "x-amzn-RequestId": request_id or str(uuid.uuid4())}
    return Response(json.dumps(body).encode("utf-8"), status_code=shape.http_status or exc.status_code,
                    media_type=JSON_TYPE, headers=headers)
