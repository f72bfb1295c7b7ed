"""``arn:aws:states:::states:startExecution``: a Task starts an execution of another state machine.

Request-response returns StartExecution's answer; ``.sync`` waits for the child and
returns DescribeExecution's fields (``Input``/``Output`` as JSON text); ``.sync:2``
returns the same with ``Input``/``Output`` parsed; ``.waitForTaskToken`` waits for
a callback (the child, or anyone, answers with the token). A child that does not
succeed fails the Task with ``States.TaskFailed``, DescribeExecution's fields (with
``Error`` and ``Cause``) as the cause. A parent that stops waiting for a ``.sync``
child (stopped, timed out, cancelled) stops it. Shapes: docs/aws-facts.md, Nested executions.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, Final

from scones.workflow.asl.connections import ChildExecution, ServiceCallError
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.jsontext import JsonTextError, parse_json, to_compact_json
from scones.workflow.asl.resources import (
    IntegrationPattern,
    Job,
    JobWait,
    ServiceIntegration,
    TaskResource,
    sdk_metadata,
)

if TYPE_CHECKING:
    from scones.workflow.asl.context import Frame
    from scones.workflow.asl.executor import Execution

START_EXECUTION_ARN: Final = "arn:aws:states:::states:startExecution"
_PARAMETERS: Final = ("StateMachineArn", "Input", "Name", "TraceHeader")
_SUCCEEDED: Final = "SUCCEEDED"


def epoch_millis(seconds: float) -> int:
    """Dates in service-integration results are epoch milliseconds (docs/aws-facts.md, Nested executions)."""
    return int(round(seconds * 1000))


def describe_fields(record: Execution, *, parse: bool) -> dict[str, Any]:
    """DescribeExecution's fields as the integration returns them: capitalised, keys in alphabetical order
    (as recorded), dates in epoch milliseconds; ``parse`` (``.sync:2``) gives Input and Output as JSON."""
    fields: dict[str, Any] = {
        "ExecutionArn": record.execution_arn,
        "Input": record.input if parse else to_compact_json(record.input),
        "InputDetails": {"Included": True},
        "Name": record.name,
        "StartDate": epoch_millis(record.start_time),
        "StateMachineArn": record.state_machine_arn,
        "Status": record.status.value,
    }
    if record.stop_time is not None:
        fields["StopDate"] = epoch_millis(record.stop_time)
    if record.status.value == _SUCCEEDED:
        fields["Output"] = record.output if parse else to_compact_json(record.output)
        fields["OutputDetails"] = {"Included": True}
    if record.error is not None:
        fields["Error"] = record.error
    if record.cause is not None:
        fields["Cause"] = record.cause
    return dict(sorted(fields.items()))


def service_failure(frame: Frame, exc: ServiceCallError) -> FailureError:
    """A refused API call as a Task reports it: ``StepFunctions.<Code>Exception`` and the SDK's message."""
    cause = (f"{exc.message} (Service: AWSStepFunctions; Status Code: {exc.status}; Error Code: {exc.code}; "
             f"Request ID: {uuid.uuid4()}; Proxy: null)")
    return FailureError.of(f"StepFunctions.{exc.code}Exception", cause)


class StartExecution(ServiceIntegration):
    resource_type = "states"
    action = "startExecution"
    required = "StateMachineArn"
    parameters = _PARAMETERS

    def call(self, frame: Frame, arguments: Any) -> Any:
        return self._start(frame, arguments).submitted

    def start_job(self, frame: Frame, arguments: Any) -> Job:
        return self._start(frame, arguments)

    def _start(self, frame: Frame, arguments: Any) -> ChildJob:
        arguments = self.check_arguments(frame, arguments)
        execution = frame.execution
        children = execution.connections.children
        machine = arguments["StateMachineArn"]
        name = arguments.get("Name")
        try:
            child_input = _child_input(arguments.get("Input"))
            if children is None:
                # Without an owner of executions (a bare interpreter) no state machine exists to start.
                raise ServiceCallError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine}'")
            if not isinstance(machine, str) or (name is not None and not isinstance(name, str)):
                raise ServiceCallError("ValidationException", "1 validation error detected: StateMachineArn and "
                                       "Name must be strings")
            child = children.start_child(machine, child_input, name=name, parent_arn=execution.execution_arn)
        except ServiceCallError as exc:
            raise service_failure(frame, exc) from exc
        record = child.record
        body = json.dumps({"executionArn": record.execution_arn, "startDate": record.start_time})
        submitted = {"ExecutionArn": record.execution_arn,
                     **sdk_metadata(str(uuid.uuid4()), body, execution.clock.now()),
                     "StartDate": epoch_millis(record.start_time)}
        return ChildJob(self, frame, child, submitted)


class ChildJob(Job):
    """A child execution a ``.sync`` Task waits for."""

    def __init__(self, resource: StartExecution, frame: Frame, child: ChildExecution, submitted: Any) -> None:
        self.resource = resource
        self.parent_arn = frame.execution.execution_arn
        self.child = child
        self.submitted = submitted

    def complete(self, wait: JobWait) -> Any:
        child = self.child
        try:
            wait(child.done)
        except BaseException as exc:
            # The parent stops waiting (stopped, timed out, a sibling failed): the child it ran stops too.
            child.stop(None, f"The execution {self.parent_arn} that started it with '{self.resource.arn}' stopped "
                             f"waiting for it ({type(exc).__name__})")
            raise
        fields = describe_fields(child.record, parse=self.resource.pattern is IntegrationPattern.RUN_JOB_2)
        if fields["Status"] != _SUCCEEDED:
            raise FailureError.of(StatesError.TASK_FAILED, to_compact_json(fields))
        return fields


def _child_input(value: Any) -> Any:
    """``Input``: any JSON value; a string is the input's JSON text; absent or null means ``{}``."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            return parse_json(value)
        except JsonTextError as exc:
            raise ServiceCallError("InvalidExecutionInput",
                                   f"Invalid State Machine Execution Input: '{exc}'") from exc
    return value


def stepfunctions_integration(arn: str) -> TaskResource | None:
    base, pattern = IntegrationPattern.of_resource(arn)
    if base == START_EXECUTION_ARN:
        return StartExecution(arn, pattern)
    return None

