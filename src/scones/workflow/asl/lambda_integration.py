"""How Task states reach Lambda functions: the contract other parts of scones code against.

The interpreter only sees a ``LambdaInvoker``; the local Lambda runtime (or a
test's ``CallableLambdaInvoker``) implements it. A *function* error (the code
raised) is a normal result with ``function_error="Unhandled"`` and the AWS error
object as payload; a Lambda *service* failure is a ``LambdaServiceError``.

Example
-------
>>> invoker = CallableLambdaInvoker({"double": lambda event, context: event * 2})
>>> invoker.invoke("arn:aws:lambda:us-east-1:123456789012:function:double:$LATEST", 21).payload
42
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from scones.workflow.asl.jsontext import parse_json

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS: Final = 3

_ARN: Final = re.compile(
    r"^arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]*):(?P<account>\d*):function:(?P<name>[^:]+)"
    r"(?::(?P<qualifier>[^:]+))?$"
)
_PARTIAL: Final = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_NAME_QUALIFIER: Final = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$")


@dataclass(frozen=True)
class LambdaInvokeResult:
    """What a synchronous Invoke returned (the fields Step Functions uses)."""

    payload: Any
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = "$LATEST"
    request_id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.request_id:
            object.__setattr__(self, "request_id", str(uuid.uuid4()))


class LambdaServiceError(Exception):
    """A Lambda *service* failure (not a function error); ``error`` is e.g. ``Lambda.ResourceNotFoundException``."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class LambdaInvoker(Protocol):
    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult: ...


@dataclass(frozen=True)
class FunctionRef:
    """A function named by name, partial ARN or full ARN, with an optional qualifier."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None


def parse_function_name(function_name: str, qualifier: str | None = None) -> FunctionRef:
    """Resolve ``my-fn``, ``my-fn:$LATEST``, ``123456789012:function:my-fn`` or a full ARN.

    Raises ``LambdaServiceError("Lambda.InvalidParameterValueException", ...)`` for anything else,
    as the Invoke API would.
    """
    for pattern in (_ARN, _PARTIAL, _NAME_QUALIFIER):
        m = pattern.match(function_name or "")
        if m:
            groups = m.groupdict()
            inline = groups.get("qualifier")
            if inline and qualifier and inline != qualifier:
                raise LambdaServiceError(
                    "Lambda.InvalidParameterValueException",
                    "The derived qualifier from the function name does not match the specified qualifier. "
                    "(Service: Lambda, Status Code: 400)")
            return FunctionRef(groups["name"], inline or qualifier, groups.get("region"), groups.get("account"))
    raise LambdaServiceError(
        "Lambda.InvalidParameterValueException",
        f"1 validation error detected: Value '{function_name}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern (Service: Lambda, Status Code: 400)")


@dataclass
class LocalLambdaContext:
    """The members of AWS's ``LambdaContext`` a handler may use."""

    function_name: str
    aws_request_id: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    _deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


Handler = Callable[[Any, Any], Any]


def error_object(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's error payload: ``errorMessage, errorType, requestId, stackTrace``."""
    frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [f.rstrip("\n") for f in frames],
    }


class CallableLambdaInvoker:
    """Maps function names to plain Python callables ``(event, context) -> result``.

    The payload goes through JSON both ways, as it would over the wire, so a
    handler cannot mutate the state data and an unserialisable return value
    fails as ``Runtime.MarshalError`` does on AWS.
    """

    def __init__(self, functions: Mapping[str, Handler], *, region: str = "us-east-1",
                 account: str = "123456789012") -> None:
        self._functions = dict(functions)
        self.region = region
        self.account = account

    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult:
        ref = parse_function_name(function_name, qualifier)
        handler = self._functions.get(ref.name)
        arn = f"arn:aws:lambda:{ref.region or self.region}:{ref.account or self.account}:function:{ref.name}"
        if handler is None:
            raise LambdaServiceError(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {arn} (Service: Lambda, Status Code: 404, Request ID: {uuid.uuid4()})")
        if ref.qualifier not in (None, "$LATEST"):
            raise LambdaServiceError(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {arn}:{ref.qualifier} (Service: Lambda, Status Code: 404, "
                f"Request ID: {uuid.uuid4()})")
        request_id = str(uuid.uuid4())
        event = json.loads(json.dumps(payload))
        context = LocalLambdaContext(function_name=ref.name, aws_request_id=request_id, invoked_function_arn=arn,
                                     _deadline=time.monotonic() + DEFAULT_TIMEOUT_SECONDS)
        try:
            result = handler(event, context)
        except Exception as exc:  # the function's own error: reported in the payload, as AWS does
            LOG.debug("function %s raised %s", ref.name, type(exc).__name__)
            return LambdaInvokeResult(payload=error_object(exc, request_id), function_error="Unhandled",
                                      request_id=request_id)
        try:
            returned = parse_json(json.dumps(result, allow_nan=False))
        except (TypeError, ValueError, RecursionError) as exc:
            return LambdaInvokeResult(
                payload={"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError",
                         "requestId": request_id, "stackTrace": []},
                function_error="Unhandled", request_id=request_id)
        return LambdaInvokeResult(payload=returned, request_id=request_id)
