"""Task resources: how a ``Resource`` ARN turns into work. New integrations plug in here.

A ``ResourceResolver`` holds the integrations one executor supports (built on
purpose, never filled at import). Each integration recognises its ARNs and
returns a ``TaskResource`` that invokes the service and reports history events.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Final

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
#: The content type of an awsJson 1.0 API's answers (Step Functions), as the SDK metadata shows it.
_JSON_CONTENT_TYPE: Final = "application/x-amz-json-1.0"


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


class IntegrationPattern(str, Enum):
    """How a Task waits, by the suffix of its ``Resource`` ("Service integration patterns", developer guide)."""

    REQUEST_RESPONSE = ""
    RUN_JOB = ".sync"
    RUN_JOB_2 = ".sync:2"
    WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"

    @classmethod
    def of_resource(cls, arn: str) -> tuple[str, IntegrationPattern]:
        """``arn:aws:states:::lambda:invoke.waitForTaskToken`` -> (``...:lambda:invoke``, WAIT_FOR_TASK_TOKEN)."""
        for pattern in (cls.RUN_JOB_2, cls.RUN_JOB, cls.WAIT_FOR_TASK_TOKEN):
            if arn.endswith(pattern.value):
                return arn[:-len(pattern.value)], pattern
        return arn, cls.REQUEST_RESPONSE


#: Waits for an event inside the Task's limits (``task_wait.wait_for`` with the Task's deadline bound).
JobWait = Callable[[threading.Event], None]


class Job(ABC):
    """A job a run-a-job (``.sync``) Task started: what TaskSubmitted records, and how to wait for its result."""

    submitted: Any

    @abstractmethod
    def complete(self, wait: JobWait) -> Any:
        """Wait (through ``wait``) for the job's end; return the task's result or raise FailureError."""


class TaskResource(ABC):
    events: TaskEvents

    def __init__(self, arn: str, pattern: IntegrationPattern = IntegrationPattern.REQUEST_RESPONSE) -> None:
        self.arn = arn
        #: Request-response: ``call``'s result is the task's. With a task token, ``call``'s result is what
        #: TaskSubmitted records and a callback gives the task's; a run-a-job task uses ``start_job`` instead.
        self.pattern = pattern

    @abstractmethod
    def call(self, frame: Frame, arguments: Any) -> Any:
        """Do the work; return the raw result or raise FailureError."""

    def start_job(self, frame: Frame, arguments: Any) -> Job:
        """Run a job (``.sync``): start it; the Task records ``Job.submitted`` and waits with ``Job.complete``."""
        raise FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} The resource '{self.arn}' does not "
                              "support the run-a-job (.sync) integration pattern")

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


def http_date(epoch: float) -> str:
    """RFC 1123 date (``Tue, 22 Aug 2025 10:00:00 GMT``), independent of the locale.

    The same text as ``email.utils.formatdate(epoch, usegmt=True)``, written out so that a run calling an
    integration does not import the email package for one header.
    """
    t = time.gmtime(epoch)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def sdk_metadata(request_id: str, body: str, now: float, content_type: str = _JSON_CONTENT_TYPE) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` of an AWS SDK answer (Step Functions, SNS), header order
    as recorded on AWS."""
    headers = {"x-amzn-RequestId": request_id, "connection": "keep-alive",
               "Content-Length": str(len(body.encode("utf-8"))), "Date": http_date(now),
               "Content-Type": content_type}
    return {"SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                "HttpHeaders": dict(headers), "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}


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
        "Date": http_date(now),
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


class ServiceIntegration(TaskResource):
    """An optimised integration (``arn:aws:states:::<service>:<action>``): one required parameter among those it
    accepts, checked alike; its events name the service and the action (with the pattern's suffix)."""

    events = SERVICE_EVENTS
    #: ``resourceType`` of its events, and ``resource`` without the pattern's suffix.
    resource_type: ClassVar[str]
    action: ClassVar[str]
    #: The parameter it cannot do without, and every parameter it accepts.
    required: ClassVar[str]
    parameters: ClassVar[tuple[str, ...]]

    def check_arguments(self, frame: Frame, arguments: Any) -> dict[str, Any]:
        """``arguments`` (Parameters/Arguments) as the integration takes them, or States.Runtime."""
        if not isinstance(arguments, dict) or self.required not in arguments:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The field '{self.required}' is required by the resource '{self.arn}'")
        unknown = [k for k in arguments if k not in self.parameters]
        if unknown:
            raise FailureError.of(
                StatesError.RUNTIME,
                f"{frame.error_prefix()} The resource '{self.arn}' does not support the parameter(s) "
                f"{', '.join(unknown)}")
        return arguments

    def scheduled_details(self, frame: Frame, arguments: Any, timeout: int | None,
                          heartbeat: int | None) -> dict[str, Any]:
        """TaskScheduled: ``resourceType``, ``resource``, region, parameters, limits."""
        details: dict[str, Any] = {**self.event_identity(), "region": frame.execution.region,
                                   "parameters": arguments}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        return details

    def event_identity(self) -> dict[str, Any]:
        return {"resourceType": self.resource_type, "resource": self.action + self.pattern.value}


class LambdaInvoke(ServiceIntegration):
    """``arn:aws:states:::lambda:invoke``: Parameters name the function and payload.

    With ``.waitForTaskToken`` the invocation result is what TaskSubmitted records, and the task waits for
    the callback ("Invoke an AWS Lambda function with Step Functions", developer guide).
    """

    resource_type = "lambda"
    action = "invoke"
    required = "FunctionName"
    parameters = _INVOKE_PARAMETERS

    def call(self, frame: Frame, arguments: Any) -> Any:
        arguments = self.check_arguments(frame, arguments)
        result = _call_invoker(frame, arguments["FunctionName"], arguments.get("Payload", {}),
                               arguments.get("Qualifier"))
        if result.function_error:
            raise function_error(result)
        return invoke_result_object(result, frame.execution.clock.now())


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
    base, pattern = IntegrationPattern.of_resource(arn)
    if base == LAMBDA_INVOKE_ARN and pattern in (IntegrationPattern.REQUEST_RESPONSE,
                                                 IntegrationPattern.WAIT_FOR_TASK_TOKEN):
        return LambdaInvoke(arn, pattern)
    if _LAMBDA_FUNCTION_ARN.match(arn):
        return LambdaFunction(arn)
    return None


class ResourceResolver:
    """The integrations an executor supports, tried in order (``integrations.default_resolver`` has them all)."""

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
