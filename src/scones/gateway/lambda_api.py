"""AWS Lambda's API over the local Lambda runtime: Invoke, ListFunctions, GetFunction, GetFunctionConfiguration.

The wire is rest-json: the operation is the method and path, options come in
headers (``X-Amz-Invocation-Type``, ``X-Amz-Log-Type``) and the query
(``Qualifier``), the payload is the body. Errors carry their code in
``x-amzn-ErrorType`` and a ``{"Type": "User", "Message": ...}`` body, as Lambda
answers them. Invocations run on worker threads: a handler may block for its
whole timeout.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scones.lambda_runtime.contract import LATEST, MAX_PAYLOAD_BYTES, LambdaServiceError
from scones.lambda_runtime.function import FunctionConfig
from scones.lambda_runtime.logs import tail
from scones.lambda_runtime.runtime import LocalLambdaRuntime

LOG = logging.getLogger(__name__)

API_VERSION: Final = "2015-03-31"
_FUNCTION: Final = re.compile(rf"^/{API_VERSION}/functions/(?P<name>[^/]+)(?P<rest>/invocations|/configuration)?/?$")
_LIST: Final = re.compile(rf"^/{API_VERSION}/functions/?$")
#: Status of each error code the runtime raises (as ``Lambda.<Code>``).
_STATUS: Final = {"ResourceNotFoundException": 404, "TooManyRequestsException": 429,
                  "RequestTooLargeException": 413, "InvalidRequestContentException": 400,
                  "InvalidParameterValueException": 400}
#: What the Python runtime's json.dumps writes: ", " and ": " separators (docs/aws-facts.md, Lambda).
_PAYLOAD_SEPARATORS: Final = (", ", ": ")
#: Event invocations take at most 1 MB (docs/aws-facts.md, Lambda: payload limits).
MAX_ASYNC_PAYLOAD_BYTES: Final = 1024 * 1024
MAX_LIST_ITEMS: Final = 50


class LambdaApiError(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def response(self) -> Response:
        return JSONResponse({"Type": "User", "Message": self.message, "message": self.message},
                            status_code=self.status, headers={"x-amzn-ErrorType": self.code})


class LambdaService:
    """The Lambda API of ``scones up`` (a ``ServiceHandler``)."""

    def __init__(self, runtime: LocalLambdaRuntime, *, created: datetime | None = None) -> None:
        self.runtime = runtime
        self.created = created or datetime.now(UTC)
        self._background: set[threading.Thread] = set()

    async def startup(self) -> None:
        self.runtime.open()

    async def shutdown(self) -> None:
        for thread in list(self._background):  # event invocations already accepted finish first
            await run_in_threadpool(thread.join, 30)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._route(request)
        except LambdaApiError as exc:
            return exc.response()
        except LambdaServiceError as exc:
            return _service_error(exc).response()

    async def _route(self, request: Request) -> Response:
        path = request.url.path
        if _LIST.match(path) and request.method == "GET":
            return self._list(request)
        match = _FUNCTION.match(path)
        if match is None:
            raise LambdaApiError("UnknownOperationException", f"No Lambda operation at {request.method} {path}", 404)
        name = unquote(match["name"])
        rest = match["rest"]
        if rest == "/invocations" and request.method == "POST":
            return await self._invoke(request, name)
        if rest is None and request.method == "GET":
            config = self._config(name, request)
            return JSONResponse({"Configuration": self.configuration(config),
                                 "Code": {"RepositoryType": "S3", "Location": ""}})
        if rest == "/configuration" and request.method == "GET":
            return JSONResponse(self.configuration(self._config(name, request)))
        raise LambdaApiError("UnknownOperationException", f"No Lambda operation at {request.method} {path}", 404)

    def _config(self, name: str, request: Request) -> FunctionConfig:
        qualifier = parse_qs(request.url.query).get("Qualifier", [None])[0]
        return self.runtime.config(name if not qualifier else f"{_bare(name)}:{qualifier}")

    async def _invoke(self, request: Request, name: str) -> Response:
        invocation_type = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise LambdaApiError("InvalidParameterValueException",
                                 f"Unsupported invocation type {invocation_type!r}", 400)
        config = self._config(name, request)
        body = await request.body()
        limit = MAX_ASYNC_PAYLOAD_BYTES if invocation_type == "Event" else MAX_PAYLOAD_BYTES
        if len(body) > limit:
            raise LambdaApiError("RequestTooLargeException",
                                 f"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413)
        payload = _payload(body)
        if invocation_type == "DryRun":
            return Response(status_code=204)
        if invocation_type == "Event":
            self._in_background(lambda: self.runtime.invoke(config.name, payload))
            return Response(status_code=202, headers={"X-Amz-Executed-Version": LATEST})
        result = await run_in_threadpool(self.runtime.invoke, config.name, payload)
        headers = {"X-Amz-Executed-Version": result.executed_version, "x-amzn-RequestId": result.request_id}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if request.headers.get("x-amz-log-type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(tail(result.log)).decode("ascii")
        text = json.dumps(result.payload, separators=_PAYLOAD_SEPARATORS, ensure_ascii=False)
        return Response(text.encode("utf-8"), status_code=200, media_type="application/json", headers=headers)

    def _in_background(self, call: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                call()
            except Exception:  # an event invocation has no caller to answer: its failure is logged
                LOG.exception("an event invocation failed")
            finally:
                self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, daemon=True, name="lambda-event")
        self._background.add(thread)
        thread.start()

    def _list(self, request: Request) -> Response:
        query = parse_qs(request.url.query)
        marker = query.get("Marker", [None])[0]
        try:
            requested = int(query.get("MaxItems", [MAX_LIST_ITEMS])[0])
        except ValueError as exc:
            raise LambdaApiError("InvalidParameterValueException", "MaxItems must be a number", 400) from exc
        if requested < 1:  # a page of 0 would hand back its own marker: a client following it never ends
            raise LambdaApiError("ValidationException", f"1 validation error detected: Value '{requested}' at "
                                 "'maxItems' failed to satisfy constraint: Member must have value greater than or "
                                 "equal to 1", 400)
        limit = min(MAX_LIST_ITEMS, requested)
        names = sorted(self.runtime.functions)
        start = names.index(marker) if marker in names else 0
        chosen = names[start:start + limit]
        out: dict[str, Any] = {"Functions": [self.configuration(self.runtime.functions[n]) for n in chosen]}
        if start + limit < len(names):
            out["NextMarker"] = names[start + limit]
        return JSONResponse(out)

    def configuration(self, config: FunctionConfig) -> dict[str, Any]:
        """``FunctionConfiguration`` as GetFunction and ListFunctions give it."""
        handler = config.handler if isinstance(config.handler, str) else \
            f"{getattr(config.handler, '__module__', 'handler')}.{getattr(config.handler, '__name__', 'handler')}"
        digest = hashlib.sha256(config.package or handler.encode()).digest()
        out: dict[str, Any] = {
            "FunctionName": config.name,
            "FunctionArn": self.runtime.arn(config.name),
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{self.runtime.account_id}:role/scones-local-lambda",
            "Handler": handler,
            "CodeSize": len(config.package or b""),
            "Description": "",
            "Timeout": int(config.timeout_seconds) if float(config.timeout_seconds).is_integer()
            else config.timeout_seconds,
            "MemorySize": config.memory_mb,
            "LastModified": self.created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "CodeSha256": base64.b64encode(digest).decode("ascii"),
            "Version": LATEST,
            "TracingConfig": {"Mode": "PassThrough"},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
        }
        if config.environment:
            out["Environment"] = {"Variables": dict(config.environment)}
        return out


def _bare(name: str) -> str:
    """A function name or ARN without its qualifier."""
    if ":function:" in name:
        head, _, tail_ = name.partition(":function:")
        return f"{head}:function:{tail_.split(':')[0]}"
    return name.split(":")[0]


def _payload(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LambdaApiError("InvalidRequestContentException",
                             f"Could not parse request body into json: Could not parse payload into json: {exc}",
                             400) from exc


def _service_error(exc: LambdaServiceError) -> LambdaApiError:
    code = exc.error.removeprefix("Lambda.")
    message = exc.cause.split(" (Service: ")[0]
    return LambdaApiError(code, message, _STATUS.get(code, 400))
