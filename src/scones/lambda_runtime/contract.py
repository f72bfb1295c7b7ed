"""The AWS Lambda contract, written once: what the Invoke API and the Python runtime do around a handler.

The context object, the error objects, the invoke result, service errors, the
invoker protocol, function names and ARNs, and marshalling with its limits.
Standard library only and importing nothing from scones: the isolated worker
loads this file by path into a clean interpreter (see ``bootstrap.py``), the
in-process runner and the States Language interpreter import it as
``scones.lambda_runtime.contract``.

Where AWS's Python runtime (``awslambdaric``) decides a detail, this module
does what it does (docs/aws-facts.md, Lambda).

Example
-------
>>> def double(event, context):
...     return event * 2
>>> call_handler(double, 21, LambdaContext(function_name="double", invoked_function_arn="",
...                                        memory_limit_in_mb=128, aws_request_id="r1", deadline=0.0))
(42, False)
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import linecache
import re
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from types import ModuleType, TracebackType
from typing import Any, Final, Protocol

Handler = Callable[[Any, Any], Any]
#: What an invocation gives back: ``(payload, failed)``, the result or the error object.
Outcome = tuple[Any, bool]

LATEST: Final = "$LATEST"
#: A function's timeout when its configuration gives none (docs/aws-facts.md, Lambda: limits).
DEFAULT_TIMEOUT_SECONDS: Final = 3.0
#: A function's memory when its configuration gives none, as CreateFunction and the templates default it.
DEFAULT_MEMORY_MB: Final = 128
#: Synchronous invoke limit, request and response (docs/aws-facts.md, Lambda: payload limits).
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
#: Deepest nesting of arrays and objects that marshals. AWS's runtime encodes under Python's default
#: recursion limit (1000), so deeper values fail there with RecursionError; checked here so the answer
#: does not depend on this process's own recursion limit.
MAX_NESTING: Final = 1000


class ErrorType(str, Enum):
    """``errorType`` values that the runtime or the Lambda service, not the handler, report."""

    MARSHAL = "Runtime.MarshalError"
    IMPORT_MODULE = "Runtime.ImportModuleError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    USER_CODE_SYNTAX = "Runtime.UserCodeSyntaxError"
    EXIT = "Runtime.ExitError"
    RESPONSE_SIZE_TOO_LARGE = "Function.ResponseSizeTooLarge"


# -- the context ---------------------------------------------------------------

class CognitoIdentity:
    """``context.identity``: AWS's runtime always sets one; its members are ``None`` unless a mobile SDK invoked."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The members of the ``context`` object AWS's Python runtime passes to a handler.

    ``deadline`` is a ``time.monotonic()`` instant: the end of the invocation's timeout.
    """

    def __init__(self, *, function_name: str, invoked_function_arn: str, memory_limit_in_mb: int,
                 aws_request_id: str, deadline: float, function_version: str = LATEST) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.identity = CognitoIdentity()
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = deadline

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        # Derived on use: few handlers read it, and a strftime per invocation adds up.
        stamp = time.strftime("%Y/%m/%d", time.gmtime())
        return f"{stamp}/[{self.function_version}]{self.aws_request_id.replace('-', '')[:32]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: object) -> None:
        """Write to the function's log without a newline, as AWS's ``context.log`` does."""
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, request={self.aws_request_id})"


# -- error objects -------------------------------------------------------------

def error_object(exc: BaseException, request_id: str) -> dict[str, Any]:
    """A handler's exception as the runtime reports it: ``errorMessage, errorType, requestId, stackTrace``."""
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id,
            "stackTrace": stack_trace(exc.__traceback__)}


def stack_trace(tb: TracebackType | None) -> list[str]:
    """``traceback.format_list`` of the frames from the handler on, each ending in a newline, without column
    marks: AWS's runtime formats ``(file, line, function, source)`` tuples and leaves out its own leading
    frames, here the frames of this module (``call_handler``)."""
    frames: list[tuple[str, int, str]] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append((code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    first = next((i for i, frame in enumerate(frames) if frame[0] != __file__), 0)
    return list(_format_frames(tuple(frames[first:])))


@functools.lru_cache(maxsize=256)
def _format_frames(frames: tuple[tuple[str, int, str], ...]) -> tuple[str, ...]:
    """The formatted frames, remembered: a handler fails from the same few places again and again
    (filterInferences on every low-confidence image), and the text depends on the locations only.
    The source lines are the ones read when the location first failed, which is the code that runs."""
    rows = [(filename, lineno, name, linecache.getline(filename, lineno).strip()) for filename, lineno, name in frames]
    return tuple(traceback.format_list(rows))


def runtime_error(error_type: ErrorType | str, message: str) -> dict[str, Any]:
    """An error the Lambda service reports (exit, response size) or an init error: ``errorMessage, errorType``."""
    return {"errorMessage": message, "errorType": error_type.value if isinstance(error_type, ErrorType) else error_type}


def fault_error(error_type: ErrorType, message: str, request_id: str) -> dict[str, Any]:
    """An error the runtime raises during an invocation (marshalling): the handler error's four keys with an
    empty ``stackTrace``, as AWS's runtime builds it."""
    return {"errorMessage": message, "errorType": error_type.value, "requestId": request_id, "stackTrace": []}


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return {"errorMessage": f"{stamp}Z {request_id} Task timed out after {timeout_seconds:.2f} seconds"}


def exit_error(request_id: str, status: int) -> dict[str, Any]:
    """The runtime process ended during an invocation; ``status`` as ``Popen.returncode`` gives it."""
    if status == 0:
        reason = "Runtime exited without providing a reason"
    elif status < 0:
        try:
            name = signal.strsignal(-status) or f"signal {-status}"
        except ValueError:
            name = f"signal {-status}"
        reason = f"Runtime exited with error: signal: {name.lower()}"
    else:
        reason = f"Runtime exited with error: exit status {status}"
    return runtime_error(ErrorType.EXIT, f"RequestId: {request_id} Error: {reason}")


def exit_status(exc: BaseException) -> int:
    """The status a Python process ends with when ``exc`` reaches its top level."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 1


# -- the invoke API ------------------------------------------------------------

@dataclass(frozen=True)
class LambdaInvokeResult:
    """What a synchronous Invoke returned (the fields Step Functions uses)."""

    payload: Any
    function_error: str | None = None
    status_code: int = 200
    executed_version: str = LATEST
    request_id: str = field(default="")
    #: The invocation's log (START ... REPORT), as ``LogType: Tail`` and the console show it.
    log: str = ""

    def __post_init__(self) -> None:
        if not self.request_id:
            object.__setattr__(self, "request_id", str(uuid.uuid4()))


class LambdaServiceError(Exception):
    """A Lambda *service* failure (not a function error); ``error`` is e.g. ``Lambda.ResourceNotFoundException``."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def service_error(code: str, message: str, status: int, request_id: str | None = None,
                  note: str = "") -> LambdaServiceError:
    """``Lambda.<code>`` with the AWS SDK's message, as Step Functions shows it in a failure's cause."""
    cause = (f"{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; "
             f"Request ID: {request_id or uuid.uuid4()})")
    return LambdaServiceError(f"Lambda.{code}", f"{cause} — {note}" if note else cause)


class LambdaInvoker(Protocol):
    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> LambdaInvokeResult: ...


# -- function names ------------------------------------------------------------

_ARN: Final = re.compile(
    r"^arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]*):(?P<account>\d*):function:(?P<name>[^:]+)"
    r"(?::(?P<qualifier>[^:]+))?$"
)
_PARTIAL: Final = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
#: Lambda's rule for a function name given as a name (docs/aws-facts.md, Lambda: function names): what a
#: declaration may call a function.
FUNCTION_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME_QUALIFIER: Final = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$")


@dataclass(frozen=True)
class FunctionRef:
    """A function named by name, partial ARN or full ARN, with an optional qualifier."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None


def function_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def parse_function_name(function_name: str, qualifier: str | None = None) -> FunctionRef:
    """Resolve ``my-fn``, ``my-fn:$LATEST``, ``123456789012:function:my-fn`` or a full ARN.

    Raises ``Lambda.InvalidParameterValueException`` for anything else, as the Invoke API would.
    """
    if isinstance(function_name, str) and (qualifier is None or isinstance(qualifier, str)):
        return _remembered_function_name(function_name, qualifier)
    return _parse_function_name(function_name or "", qualifier)


@functools.lru_cache(maxsize=1024)
def _remembered_function_name(function_name: str, qualifier: str | None) -> FunctionRef:
    """A state machine names the same few functions on every invocation."""
    return _parse_function_name(function_name, qualifier)


def _parse_function_name(function_name: str, qualifier: str | None) -> FunctionRef:
    for pattern in (_ARN, _PARTIAL, _NAME_QUALIFIER):
        m = pattern.match(function_name)
        if m:
            groups = m.groupdict()
            inline = groups.get("qualifier")
            if inline and qualifier and inline != qualifier:
                raise service_error("InvalidParameterValueException",
                                    "The derived qualifier from the function name does not match the specified "
                                    "qualifier.", 400)
            return FunctionRef(groups["name"], inline or qualifier, groups.get("region"), groups.get("account"))
    raise service_error("InvalidParameterValueException",
                        f"1 validation error detected: Value '{function_name}' at 'functionName' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern", 400)


def function_not_found(arn: str, request_id: str | None = None) -> LambdaServiceError:
    return service_error("ResourceNotFoundException", f"Function not found: {arn}", 404, request_id)


# -- marshalling -----------------------------------------------------------------

def payload_size(text: str) -> int:
    """UTF-8 size of JSON text; ``json.dumps`` output is ASCII (``ensure_ascii``), so no encoding is needed."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def request_event(payload: Any, request_id: str | None = None) -> Any:
    """The event a handler receives: its own copy of the Invoke payload, as the JSON request body carries it.

    Raises ``Lambda.InvalidRequestContentException`` for a payload that is not JSON (NaN and Infinity
    included: the Invoke API parses the body as JSON) and ``Lambda.RequestTooLargeException`` past the limit.
    """
    try:
        event, size = _json_copy(payload)
    except (TypeError, ValueError, RecursionError) as exc:
        raise service_error("InvalidRequestContentException", f"Could not parse request body into json: {exc}",
                            400, request_id) from exc
    if size > MAX_PAYLOAD_BYTES:
        raise service_error("RequestTooLargeException",
                            f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction "
                            f"operation (got {size})", 413, request_id)
    return event


def marshal(result: Any, request_id: str) -> Outcome:
    """``(payload, failed)``: the handler's result as the caller reads it back, or the marshal/size error.

    NaN and Infinity are marshal errors: they are not JSON, and a state machine could not read them.
    """
    try:
        payload, size = _json_copy(result)
    except (TypeError, ValueError, RecursionError) as exc:
        return fault_error(ErrorType.MARSHAL, f"Unable to marshal response: {exc}", request_id), True
    if size > MAX_PAYLOAD_BYTES:
        message = (f"Response payload size ({size} bytes) exceeded maximum allowed "
                   f"payload size ({MAX_PAYLOAD_BYTES} bytes).")
        return runtime_error(ErrorType.RESPONSE_SIZE_TOO_LARGE, message), True
    return payload, False


def _json_copy(value: Any) -> tuple[Any, int]:
    """``(json.loads(text), payload_size(text))`` for ``text = json.dumps(value, allow_nan=False)``, raising what
    that raises, without building the text when it can be skipped.

    Plain values (dicts with string keys, lists, strings, finite floats, ints, booleans, null) are copied
    directly: strings are immutable and need no copy, and an upper bound of the encoded size (six ASCII
    characters per character at most) settles the limit. Anything else, and a bound past the limit, takes
    the exact path through JSON text.
    """
    try:
        copy, bound = _plain_copy(value, 0)
    except _NotPlain:
        pass
    else:
        if bound <= MAX_PAYLOAD_BYTES:
            return copy, bound
    text = json.dumps(value, allow_nan=False)
    copy = json.loads(text)
    _check_nesting(copy)
    return copy, payload_size(text)


def _check_nesting(value: Any) -> None:
    """Raise json's own RecursionError past ``MAX_NESTING`` (iteratively: any depth is safe to check)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind is not dict and kind is not list:
            continue
        if depth > MAX_NESTING:
            raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")
        stack.extend((child, depth + 1) for child in (node.values() if kind is dict else node))


class _NotPlain(Exception):
    """A value ``_plain_copy`` leaves to ``json`` (other types, big ints, NaN, deep nesting, cycles)."""


#: Nesting beyond this goes the exact way, so ``json``'s recursion and circular-reference errors stay as they are.
_PLAIN_DEPTH: Final = 64
_INT_RANGE: Final = 1 << 64


def _plain_copy(value: Any, depth: int) -> tuple[Any, int]:
    """A copy of a plain JSON value and an upper bound of its ``json.dumps`` length."""
    kind = type(value)
    if kind is str:
        return value, 6 * len(value) + 2
    if kind is dict:
        if depth >= _PLAIN_DEPTH:
            raise _NotPlain
        out = {}
        bound = 2
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            if type(item) is str:  # the common leaf, without a call
                out[key] = item
                bound += 6 * (len(key) + len(item)) + 8
            else:
                out[key], size = _plain_copy(item, depth + 1)
                bound += size + 6 * len(key) + 6
        return out, bound
    if kind is list:
        if depth >= _PLAIN_DEPTH:
            raise _NotPlain
        items = []
        bound = 2
        for item in value:
            if type(item) is float and item - item == 0.0:  # the common leaf (probabilities), without a call
                items.append(item)
                bound += 26
            else:
                copied, size = _plain_copy(item, depth + 1)
                items.append(copied)
                bound += size + 2
        return items, bound
    if kind is float:
        if value - value == 0.0:  # finite: NaN and the infinities give NaN here
            return value, 24
        raise _NotPlain
    if kind is int:
        if -_INT_RANGE < value < _INT_RANGE:
            return value, 21
        raise _NotPlain
    if kind is bool or value is None:
        return value, 5
    raise _NotPlain


# -- the handler -----------------------------------------------------------------

def call_handler(handler: Handler, event: Any, context: LambdaContext) -> Outcome:
    """Run one invocation: ``(payload, failed)``, the marshalled result or the error object."""
    try:
        result = handler(event, context)
    except Exception as exc:  # the runtime reports every handler exception as the invoke's error payload
        return error_object(exc, context.aws_request_id), True
    return marshal(result, context.aws_request_id)


class HandlerInitError(Exception):
    """The handler could not be loaded; every invocation of the function answers ``error_object()``."""

    def __init__(self, error_type: ErrorType | str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def error_object(self) -> dict[str, Any]:
        return runtime_error(self.error_type, self.message)


def load_handler(handler: str, *, fresh: bool = False) -> Handler:
    """Import ``module.attr`` the way AWS's runtime does, failing with its error types.

    ``fresh`` runs the handler's module anew (not the copy in ``sys.modules``), the
    in-process counterpart of a new execution environment: its module-level state
    (cached clients, anything left half-done by a timed-out invocation) starts
    empty. The modules it imports are shared as usual.
    """
    module_name, _, attr = handler.rpartition(".")
    if not module_name:
        raise HandlerInitError(ErrorType.MALFORMED_HANDLER_NAME,
                               f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    name = module_name.replace("/", ".")
    try:
        module = _fresh_module(name) if fresh else importlib.import_module(name)
    except ImportError as exc:
        raise HandlerInitError(ErrorType.IMPORT_MODULE, f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise HandlerInitError(ErrorType.USER_CODE_SYNTAX, f"Syntax error in module '{module_name}': {exc}") from exc
    except Exception as exc:  # raised by the module's own top-level code: reported under its own name
        raise HandlerInitError(type(exc).__name__, str(exc)) from exc
    try:
        func: Handler = getattr(module, attr)
    except AttributeError as exc:
        raise HandlerInitError(ErrorType.HANDLER_NOT_FOUND,
                               f"Handler '{attr}' missing on module '{module_name}'") from exc
    return func


def _fresh_module(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
