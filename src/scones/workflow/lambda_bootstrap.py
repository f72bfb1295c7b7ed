"""What the AWS Lambda Python runtime does around a handler: the context, error objects, result marshalling.

Standard library only: the local runtime imports it in-process, and runs this
very file as the bootstrap of an ``--isolated`` worker, a clean interpreter
whose ``sys.path`` holds only the function's unpacked zip, boto3 and the
standard library — what a Lambda sandbox holds.

Worker protocol (one JSON object per line): the parent writes
``{"request_id", "event", "timeout_ms", "arn"}`` on stdin, the worker answers
``{"payload": <text>, "error": <bool>}`` on the descriptor it was given; the
handler's own prints go to stderr, as they go to CloudWatch on AWS.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Final

#: Synchronous invoke limit, request and response (aws-contracts.md §6.3).
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024


class LambdaContext:
    """The members of the ``context`` object AWS passes to a Python handler."""

    def __init__(self, *, function_name: str, invoked_function_arn: str, memory_limit_in_mb: int,
                 aws_request_id: str, timeout_ms: int, function_version: str = "$LATEST") -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000.0

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        # Derived on use: few handlers read it, and a strftime per invocation adds up.
        return time.strftime("%Y/%m/%d/[$LATEST]") + self.aws_request_id.replace("-", "")[:32]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, request={self.aws_request_id})"


def error_object(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's error payload, keys in AWS's order."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]
    where = tuple((f.filename, f.lineno, f.name, getattr(f, "end_lineno", None), getattr(f, "colno", None),
                   getattr(f, "end_colno", None)) for f in frames)
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id,
            "stackTrace": list(_format_frames(where))}


@functools.lru_cache(maxsize=256)
def _format_frames(where: tuple[tuple[Any, ...], ...]) -> tuple[str, ...]:
    """``traceback.format_list`` of these code locations, remembered.

    Formatting parses each source line (for the caret marks of Python 3.11+), which
    cost more than a whole invocation; a handler fails from the same few places
    again and again (filterInferences on every low-confidence image), and the text
    depends on the locations only.
    """
    frames = []
    for filename, lineno, name, end_lineno, colno, end_colno in where:
        try:
            frame = traceback.FrameSummary(filename, lineno, name, end_lineno=end_lineno, colno=colno,
                                           end_colno=end_colno)
        except TypeError:  # Python < 3.11: no position information
            frame = traceback.FrameSummary(filename, lineno, name)
        frames.append(frame)
    return tuple(traceback.format_list(frames))


def runtime_error(error_type: str, message: str) -> dict[str, Any]:
    """Errors raised by the runtime itself (import, marshal, size) carry no request id or stack."""
    return {"errorMessage": message, "errorType": error_type}


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return {"errorMessage": f"{stamp}Z {request_id} Task timed out after {timeout_seconds:.2f} seconds"}


def marshal(result: Any) -> tuple[str, bool]:
    """The response text, as ``json.dumps`` gives it, or the runtime's marshal/size error.
    NaN and Infinity are marshal errors: they are not JSON, and the state machine could not read them."""
    try:
        text = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return json.dumps(runtime_error("Runtime.MarshalError", f"Unable to marshal response: {exc}")), True
    size = payload_size(text)
    if size > MAX_PAYLOAD_BYTES:
        message = (f"Response payload size ({size} bytes) exceeded maximum allowed "
                   f"payload size ({MAX_PAYLOAD_BYTES} bytes).")
        return json.dumps(runtime_error("Function.ResponseSizeTooLarge", message)), True
    return text, False


def payload_size(text: str) -> int:
    """UTF-8 size of JSON text; ``json.dumps`` output is ASCII (``ensure_ascii``), so no encoding is needed."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def call_handler(handler: Callable[[Any, Any], Any], event_text: str, context: LambdaContext) -> tuple[str, bool]:
    """Run one invocation: a fresh event from JSON text, the handler, then marshalling."""
    event = json.loads(event_text)
    try:
        result = handler(event, context)
    except Exception as exc:  # the runtime reports every handler exception as the invoke's error payload
        return json.dumps(error_object(exc, context.aws_request_id)), True
    return marshal(result)


def load_handler(handler: str, *, fresh: bool = False) -> Callable[[Any, Any], Any]:
    """Import ``module.attr`` the way the Lambda runtime does, with its error types.

    ``fresh`` runs the handler's module anew (not the copy in ``sys.modules``), the
    in-process counterpart of a new execution environment: its module-level state
    (cached clients, anything left half-done by a timed-out invocation) starts
    empty. The modules it imports are shared as usual.
    """
    module_name, _, attr = handler.rpartition(".")
    if not module_name:
        raise ImportError(f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    try:
        name = module_name.replace("/", ".")
        module = _fresh_module(name) if fresh else importlib.import_module(name)
    except Exception as exc:
        raise ImportError(f"Unable to import module '{module_name}': {exc}") from exc
    try:
        func = getattr(module, attr)
    except AttributeError as exc:
        raise AttributeError(f"Handler '{attr}' missing on module '{module_name}'") from exc
    return func  # type: ignore[no-any-return]


def _fresh_module(name: str) -> Any:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worker(reply_fd: int) -> None:
    reply = os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    init_error: dict[str, Any] | None = None
    handler: Callable[[Any, Any], Any] | None = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except ImportError as exc:
        init_error = runtime_error("Runtime.ImportModuleError", str(exc))
    except AttributeError as exc:
        init_error = runtime_error("Runtime.HandlerNotFound", str(exc))
    except Exception as exc:  # an exception at import time of the handler module
        init_error = runtime_error("Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError)
                                   else "Runtime.ImportModuleError", str(exc))
    reply.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        if handler is None:
            assert init_error is not None
            text, failed = json.dumps(init_error), True
        else:
            context = LambdaContext(function_name=name, invoked_function_arn=request["arn"],
                                    memory_limit_in_mb=memory, aws_request_id=request["request_id"],
                                    timeout_ms=request["timeout_ms"])
            text, failed = call_handler(handler, request["event"], context)
        reply.write(json.dumps({"payload": text, "error": failed}) + "\n")


if __name__ == "__main__":
    # Keep the protocol channel private: anything the handler prints goes to stderr.
    channel = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _worker(channel)
