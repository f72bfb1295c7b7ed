"""Which AWS service a request is for, told apart the way AWS endpoints do it.

One port serves every service, so the request itself must say: Step Functions by
its ``X-Amz-Target`` (``AWSStepFunctions.StartExecution``); the others by the
service name in the SigV4 credential scope (``Credential=KEY/20250101/us-east-1/s3/aws4_request``,
in the ``Authorization`` header or, for presigned URLs, the ``X-Amz-Credential``
query parameter); unsigned requests by their path (Lambda's
``/2015-03-31/functions/...``, SageMaker Runtime's ``/endpoints/{name}/invocations``);
anything else is S3, which also answers unsigned (anonymous, presigned-style) requests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Final
from urllib.parse import parse_qs


class Service(str, Enum):
    S3 = "s3"
    STEP_FUNCTIONS = "states"
    LAMBDA = "lambda"
    SAGEMAKER_RUNTIME = "sagemaker-runtime"
    CONSOLE = "console"


#: SigV4 signing names (botocore service models' ``signingName``) -> service.
SIGNING_NAMES: Final = {"s3": Service.S3, "states": Service.STEP_FUNCTIONS, "lambda": Service.LAMBDA,
                        "sagemaker": Service.SAGEMAKER_RUNTIME}
STEP_FUNCTIONS_TARGET: Final = "AWSStepFunctions."
CONSOLE_PREFIX: Final = "/_console"
_CREDENTIAL: Final = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]*/([^/,\s]+)/aws4_request")
_LAMBDA_PATH: Final = re.compile(r"^/20\d\d-\d\d-\d\d/(functions|tags|event-source-mappings|layers)\b")
_RUNTIME_PATH: Final = re.compile(r"^/endpoints/[^/]+/invocations$")


def service_of(method: str, path: str, query: str, headers: Mapping[str, str]) -> Service:
    """The service a request is for; ``headers`` with lower-case names."""
    if path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/"):
        return Service.CONSOLE
    if headers.get("x-amz-target", "").startswith(STEP_FUNCTIONS_TARGET):
        return Service.STEP_FUNCTIONS
    scope = signing_service(headers.get("authorization", ""), query)
    if scope is not None and scope in SIGNING_NAMES:
        service = SIGNING_NAMES[scope]
        # SageMaker's control plane signs as "sagemaker" too; only the runtime's invocations are served.
        if service is not Service.SAGEMAKER_RUNTIME or _RUNTIME_PATH.match(path):
            return service
    if _LAMBDA_PATH.match(path):
        return Service.LAMBDA
    if method == "POST" and _RUNTIME_PATH.match(path):
        return Service.SAGEMAKER_RUNTIME
    return Service.S3


def signing_service(authorization: str, query: str) -> str | None:
    """The service name of the SigV4 credential scope, from the header or a presigned URL's query."""
    match = _CREDENTIAL.search(authorization)
    if match:
        return match.group(1)
    if "X-Amz-Credential" in query:
        credential = parse_qs(query).get("X-Amz-Credential", [""])[0]
        parts = credential.split("/")
        if len(parts) == 5:
            return parts[3]
    return None
