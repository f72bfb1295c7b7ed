"""Task resources: how a ``Resource`` ARN turns into work. New integrations plug in here.

A ``ResourceResolver`` holds the integrations one executor supports (built on
purpose, never filled at import). Each integration recognises its ARNs and
returns a ``TaskResource`` that invokes the service and reports history events.
"""

from __future__ import annotations

import json
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from scones.lambda_runtime.contract import LambdaInvoker, LambdaInvokeResult, LambdaServiceError
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.history import EventType

if TYPE_CHECKING:
    from scones.workflow.asl.context import Frame

LOG = logging.getLogger(__name__)

LAMBDA_INVOKE_ARN: Final = "arn:aws:states:::lambda:invoke"
_LAMBDA_FUNCTION_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$")
_INVOKE_PARAMETERS: Final = ("FunctionName", "Payload", "Qualifier", "InvocationType", "ClientContext", "LogType")


@dataclass(frozen=True)
class TaskEvents:
    scheduled: EventType
    started: EventType
    succeeded: EventType
    failed: EventType
    timed_out: EventType


SERVICE_EVENTS: Final = TaskEvents(EventType.TASK_SCHEDULED, EventType.TASK_STARTED, EventType.TASK_SUCCEEDED,
                                   EventType.TASK_FAILED, EventType.TASK_TIMED_OUT)
LAMBDA_EVENTS: Final = TaskEvents(EventType.LAMBDA_FUNCTION_SCHEDULED, EventType.LAMBDA_FUNCTION_STARTED,
                                  EventType.LAMBDA_FUNCTION_SUCCEEDED, EventType.LAMBDA_FUNCTION_FAILED,
                                  EventType.LAMBDA_FUNCTION_TIMED_OUT)


class TaskResource(ABC):
    events: TaskEvents

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @abstractmethod
    def call(self, frame: Frame, arguments: Any) -> Any:
        """Do the work; return the raw result or raise FailureError."""

    @abstractmethod
    def scheduled_details(self, frame: Frame, arguments: Any, timeout: int | None,
                          heartbeat: int | None) -> dict[str, Any]: ...

    @abstractmethod
    def event_identity(self) -> dict[str, Any]:
        """``resourceType``/``resource`` fields for Started/Succeeded/Failed events (may be empty)."""

    def may_block(self) -> bool:
        return True


def _invoker(frame: Frame, function_name: str) -> LambdaInvoker:
    invoker = frame.execution.invoker
    if invoker is None:
        # Not retriable on purpose: with no runtime, no function exists (a ServiceException would be retried).
        raise LambdaServiceError("Lambda.ResourceNotFoundException",
                                 f"Function not found: {function_name} (no Lambda runtime is configured for this "
                                 f"execution) (Service: Lambda, Status Code: 404)")
    return invoker


def _call_invoker(frame: Frame, function_name: str, payload: Any, qualifier: str | None) -> LambdaInvokeResult:
    """Invoke, mapping failures to the names Step Functions reports.

    A ``LambdaServiceError`` keeps its name; anything else the invoker raises
    (a refused connection, a broken local runtime) is what the AWS SDK reports
    as ``Lambda.SdkClientException``, which the console's default retrier retries.
    """
    try:
        invoker = _invoker(frame, function_name)
        return invoker.invoke(function_name, payload, qualifier=qualifier)
    except LambdaServiceError as exc:
        raise FailureError.of(exc.error, exc.cause) from exc
    except Exception as exc:  # any client-side failure becomes the SDK's error name
        LOG.warning("invoking %s failed: %s", function_name, exc)
        raise FailureError.of("Lambda.SdkClientException",
                              f"Unable to execute HTTP request: {type(exc).__name__}: {exc}") from exc


def function_error(result: LambdaInvokeResult) -> FailureError:
    """A function error: Error = the payload's errorType, Cause = the error payload as JSON text."""
    payload = result.payload
    error = payload.get("errorType") if isinstance(payload, dict) else None
    cause = payload if isinstance(payload, str) else json.dumps(payload)
    return FailureError.of(error if isinstance(error, str) and error else "Lambda.Unknown", cause)


_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _http_date(epoch: float) -> str:
    """RFC 1123 date (``Tue, 22 Aug 2025 10:00:00 GMT``), independent of the locale."""
    t = time.gmtime(epoch)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def invoke_result_object(result: LambdaInvokeResult, now: float) -> dict[str, Any]:
    """The optimised Lambda integration's task result, keys in AWS's order.

    (docs/aws-facts.md, Step Functions: optimised Lambda integration)
    """
    body = json.dumps(result.payload, separators=(",", ":"))
    headers = {
        "X-Amz-Executed-Version": result.executed_version,
        "x-amzn-Remapped-Content-Length": "0",
        "Connection": "keep-alive",
        "x-amzn-RequestId": result.request_id,
        "Content-Length": str(len(body.encode("utf-8"))),
        "Date": _http_date(now),
        "X-Amzn-Trace-Id": f"root=1-{int(now):08x}-{result.request_id.replace('-', '')[:24]};sampled=0",
        "Content-Type": "application/json",
    }
    return {
        "ExecutedVersion": result.executed_version,
        "Payload": result.payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": dict(headers),
            "HttpStatusCode": result.status_code,
        },
        "SdkResponseMetadata": {"RequestId": result.request_id},
        "StatusCode": result.status_code,
    }


class LambdaInvoke(TaskResource):
    """``arn:aws:states:::lambda:invoke``: Parameters name the function and payload."""

    events = SERVICE_EVENTS

    def call(self, frame: Frame, arguments: Any) -> Any:
        if not isinstance(arguments, dict) or "FunctionName" not in arguments:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The field 'FunctionName' is required by the resource '{self.arn}'")
        unknown = [k for k in arguments if k not in _INVOKE_PARAMETERS]
        if unknown:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The resource '{self.arn}' does not support the parameter(s) "
                f"{', '.join(unknown)}")
        result = _call_invoker(frame, arguments["FunctionName"], arguments.get("Payload", {}),
                               arguments.get("Qualifier"))
        if result.function_error:
            raise function_error(result)
        return invoke_result_object(result, frame.execution.clock.now())

    def scheduled_details(self, frame: Frame, arguments: Any, timeout: int | None,
                          heartbeat: int | None) -> dict[str, Any]:
        details: dict[str, Any] = {"resourceType": "lambda", "resource": "invoke", "region": frame.execution.region,
                                   "parameters": arguments}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        return details

    def event_identity(self) -> dict[str, Any]:
        return {"resourceType": "lambda", "resource": "invoke"}


class LambdaFunction(TaskResource):
    """A function ARN as ``Resource``: the input is the payload, the result is the bare return value."""

    events = LAMBDA_EVENTS

    def call(self, frame: Frame, arguments: Any) -> Any:
        result = _call_invoker(frame, self.arn, arguments, None)
        if result.function_error:
            raise function_error(result)
        return result.payload

    def scheduled_details(self, frame: Frame, arguments: Any, timeout: int | None,
                          heartbeat: int | None) -> dict[str, Any]:
        details: dict[str, Any] = {"resource": self.arn, "input": arguments}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        return details

    def event_identity(self) -> dict[str, Any]:
        return {}


Integration = Callable[[str], TaskResource | None]


def lambda_integration(arn: str) -> TaskResource | None:
    if arn == LAMBDA_INVOKE_ARN:
        return LambdaInvoke(arn)
    if _LAMBDA_FUNCTION_ARN.match(arn):
        return LambdaFunction(arn)
    return None


class ResourceResolver:
    """The integrations an executor supports, tried in order."""

    def __init__(self, integrations: Sequence[Integration] = (lambda_integration,)) -> None:
        self.integrations = list(integrations)

    def resolve(self, arn: str) -> TaskResource | None:
        for integration in self.integrations:
            resource = integration(arn)
            if resource is not None:
                return resource
        return None

    def with_integration(self, integration: Integration) -> ResourceResolver:
        return ResourceResolver([integration, *self.integrations])


def default_resolver() -> ResourceResolver:
    return ResourceResolver()
