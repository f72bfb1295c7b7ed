"""Plain Python callables as Lambda functions, for tests and embedding: the interpreter's simplest ``LambdaInvoker``.

The Lambda contract itself (``LambdaInvoker``, ``LambdaInvokeResult``,
``LambdaServiceError``, the context, error objects and marshalling) lives in
``scones.lambda_runtime.contract``; the local Lambda runtime implements the same
protocol with containers, timeouts and isolation. A *function* error (the code
raised) is a normal result with ``function_error="Unhandled"`` and the AWS error
object as payload; a Lambda *service* failure is a ``LambdaServiceError``.

Example
-------
>>> invoker = CallableLambdaInvoker({"double": lambda event, context: event * 2})
>>> invoker.invoke("arn:aws:lambda:us-east-1:123456789012:function:double:$LATEST", 21).payload
42
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from scones.lambda_runtime.contract import (
    DEFAULT_TIMEOUT_SECONDS,
    LATEST,
    Handler,
    LambdaContext,
    LambdaInvokeResult,
    call_handler,
    function_arn,
    function_not_found,
    parse_function_name,
    request_event,
)

LOG = logging.getLogger(__name__)


class CallableLambdaInvoker:
    """Maps function names to plain Python callables ``(event, context) -> result``.

    The payload goes through the contract's marshalling both ways, as it would
    over the wire, so a handler cannot mutate the state data and an
    unserialisable return value fails as ``Runtime.MarshalError`` does on AWS.
    Timeouts are not enforced (the local runtime does that).
    """

    def __init__(self, functions: Mapping[str, Handler], *, region: str = "us-east-1",
                 account: str = "123456789012") -> None:
        self._functions = dict(functions)
        self.region = region
        self.account = account

    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult:
        request_id = str(uuid.uuid4())
        ref = parse_function_name(function_name, qualifier)
        handler = self._functions.get(ref.name)
        arn = function_arn(ref.name, ref.region or self.region, ref.account or self.account)
        if handler is None:
            raise function_not_found(arn, request_id)
        if ref.qualifier not in (None, LATEST):
            raise function_not_found(f"{arn}:{ref.qualifier}", request_id)
        event = request_event(payload, request_id)
        context = LambdaContext(function_name=ref.name, invoked_function_arn=arn, memory_limit_in_mb=128,
                                aws_request_id=request_id, deadline=time.monotonic() + DEFAULT_TIMEOUT_SECONDS)
        result, failed = call_handler(handler, event, context)
        if failed:
            LOG.debug("function %s failed: %s", ref.name, result.get("errorType") if isinstance(result, dict) else "")
            return LambdaInvokeResult(payload=result, function_error="Unhandled", request_id=request_id)
        return LambdaInvokeResult(payload=result, request_id=request_id)
