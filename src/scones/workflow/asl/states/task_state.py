"""``Task``: one unit of work done by a resource (a Lambda function here), with timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Final, TypeVar

from scones.workflow.asl.callbacks import CallbackFailure, CallbackSuccess, WaitingTask
from scones.workflow.asl.checks import (
    BAD_RESOURCE,
    COMMON,
    ERRORS,
    FLOW,
    JSONPATH_IO,
    SCHEMA,
    Checker,
    FieldTable,
    Where,
    expression_allowed,
    is_int,
    number_problem,
)
from scones.workflow.asl.clock import SystemClock
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import ExecutionAborted, ExecutionTimedOut, Failure, FailureError, StatesError
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import within_payload_limit
from scones.workflow.asl.paths import PathNotFound
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.resources import IntegrationPattern, Job, TaskResource
from scones.workflow.asl.states.base import BuildContext
from scones.workflow.asl.states.execution_state import ExecutionState
from scones.workflow.asl.task_wait import Heartbeat, wait_for
from scones.workflow.asl.variables import UndefinedVariable

#: "If not provided, the default value of TimeoutSeconds is 99999999" (developer guide).
DEFAULT_TIMEOUT_SECONDS: Final = 99_999_999
#: How often a running task looks for a StopExecution request (real time only).
STOP_POLL_SECONDS: Final = 0.05

T = TypeVar("T")


class TaskState(ExecutionState):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | FLOW | ERRORS | {
            "Resource", "ResultPath", "Parameters", "ResultSelector", "TimeoutSeconds", "TimeoutSecondsPath",
            "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"},
        QueryLanguage.JSONATA: COMMON | FLOW | ERRORS | {"Resource", "Arguments", "Output", "TimeoutSeconds",
                                                          "HeartbeatSeconds", "Credentials", "Assign"},
    }
    entered_event = EventType.TASK_STATE_ENTERED
    exited_event = EventType.TASK_STATE_EXITED
    has_retry_count = True

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage, resource: TaskResource) -> None:
        super().__init__(name, props, language)
        self.resource = resource
        self.timeout = optional_field(props, language, "TimeoutSeconds", "TimeoutSecondsPath")
        # Recorded in TaskScheduled; enforced while a .waitForTaskToken task waits for its callback
        # (SendTaskHeartbeat keeps it waiting). A request-response call has nobody to send heartbeats.
        self.heartbeat = optional_field(props, language, "HeartbeatSeconds", "HeartbeatSecondsPath")

    @classmethod
    def build(cls, name: str, props: dict[str, Any], language: QueryLanguage, context: BuildContext) -> TaskState:
        return cls(name, props, language, context.resource(props["Resource"]))

    @classmethod
    def _validate_work(cls, checker: Checker, props: dict[str, Any], where: Where, language: QueryLanguage) -> None:
        resource = props.get("Resource")
        if resource is None:
            checker.add(SCHEMA, "These fields are required: [Resource]", *where)
        elif not isinstance(resource, str):
            checker.add(SCHEMA, "Resource must be a string", *where, "Resource")
        elif checker.resolver.resolve(resource) is None:
            checker.add(BAD_RESOURCE, f"The resource provided {resource} is not recognized. The value is not a "
                        "valid resource ARN, or the resource is not available locally", *where, "Resource")
        for plain in ("TimeoutSeconds", "HeartbeatSeconds"):
            if plain in props and plain + "Path" in props:
                checker.add(SCHEMA, f"Only one of \"{plain}\" or \"{plain}Path\" can be present", *where)
            if plain in props and not expression_allowed(props[plain], language):
                if not is_int(props[plain]) or props[plain] <= 0:
                    checker.add(SCHEMA, number_problem(props[plain], f"{plain} must be a positive integer"), *where,
                                plain)
            if plain + "Path" in props:
                checker.path(props[plain + "Path"], (*where, plain + "Path"), reference=True, nullable=False)
        timeout, heartbeat = props.get("TimeoutSeconds"), props.get("HeartbeatSeconds")
        if is_int(timeout) and is_int(heartbeat) and heartbeat >= timeout:
            checker.add(SCHEMA, "HeartbeatSeconds must be smaller than TimeoutSeconds", *where, "HeartbeatSeconds")

    @staticmethod
    def _seconds(frame: Frame, raw: Any, effective: Any, field: Field | None, name: str) -> int | None:
        if field is None:
            return None
        try:
            value = field.eval(frame, effective, raw)
        except (PathNotFound, UndefinedVariable) as exc:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} Invalid path '{field.source}' for {name}Path") from exc
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise FailureError.of(StatesError.RUNTIME,
                                  f"{frame.error_prefix()} {name} must be a positive integer, got {value!r}")
        return value

    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        waiting: WaitingTask | None = None
        if self.resource.pattern is IntegrationPattern.WAIT_FOR_TASK_TOKEN:
            # "the task token can be accessed in the Parameters field ... with $$.Task.Token": a new token per
            # attempt, opened before Parameters are evaluated (developer guide, "Wait for a Callback").
            execution = frame.execution
            waiting = execution.connections.callbacks.open(execution.execution_arn, self.name, execution.clock.now)
            frame.context_object = {**frame.context_object, "Task": {"Token": waiting.token}}
        try:
            return self._attempt(frame, raw, effective, waiting)
        finally:
            if waiting is not None:
                frame.execution.connections.callbacks.close(waiting)
                frame.context_object = {k: v for k, v in frame.context_object.items() if k != "Task"}

    def _attempt(self, frame: Frame, raw: Any, effective: Any, waiting: WaitingTask | None) -> Any:
        flow = self.flow
        arguments = flow.parameters_value(frame, effective, raw) if flow.has_parameters() else effective
        timeout = self._seconds(frame, raw, effective, self.timeout, "TimeoutSeconds")
        heartbeat = self._seconds(frame, raw, effective, self.heartbeat, "HeartbeatSeconds")
        if not within_payload_limit(arguments):
            raise FailureError.of(
                StatesError.DATA_LIMIT_EXCEEDED,
                f"The state/task '{self.name}' has an input (after Parameters) with a size exceeding the maximum "
                f"number of bytes service limit.")
        resource = self.resource
        pattern = resource.pattern
        events = resource.events
        identity = resource.event_identity()
        clock = frame.execution.clock
        frame.event(events.scheduled, resource.scheduled_details(frame, arguments, timeout, heartbeat))
        frame.event(events.started, dict(identity) if identity else None)
        deadline = None if timeout is None else clock.now() + timeout
        try:
            if pattern in (IntegrationPattern.RUN_JOB, IntegrationPattern.RUN_JOB_2):
                job: Job = self._call(frame, lambda: resource.start_job(frame, arguments), timeout)
                frame.event(EventType.TASK_SUBMITTED, {**identity, "output": job.submitted})
                result = job.complete(lambda done: wait_for(frame, done, task_deadline=deadline))
            else:
                result = self._call(frame, lambda: resource.call(frame, arguments), timeout)
                if waiting is not None:
                    frame.event(EventType.TASK_SUBMITTED, {**identity, "output": result})
                    result = self._callback(frame, waiting, deadline, heartbeat)
        except FailureError as exc:
            failure = exc.failure
            details = dict(identity)
            if failure.error is not None:
                details["error"] = failure.error
            if failure.cause is not None:
                details["cause"] = failure.cause
            kind = events.timed_out if failure.error == StatesError.TIMEOUT.value else events.failed
            frame.event(kind, details)
            raise
        if not within_payload_limit(result):
            too_large = FailureError.of(
                StatesError.DATA_LIMIT_EXCEEDED,
                f"The state/task '{self.name}' returned a result with a size exceeding the maximum number of "
                f"bytes service limit.")
            frame.event(events.failed, {**identity, "error": too_large.failure.error,
                                        "cause": too_large.failure.cause})
            raise too_large
        details = dict(identity)
        details["output"] = result
        frame.event(events.succeeded, details)
        return result

    @staticmethod
    def _callback(frame: Frame, waiting: WaitingTask, deadline: float | None, heartbeat: int | None) -> Any:
        """Wait for SendTaskSuccess/SendTaskFailure. "The heartbeat timeout doesn't begin counting until after the
        Lambda function has completed executing and returned a result" (developer guide, Lambda integration)."""
        waiting.beat()
        beat = None if heartbeat is None else Heartbeat(float(heartbeat), lambda: waiting.last_beat)
        wait_for(frame, waiting.answered, task_deadline=deadline, heartbeat=beat)
        outcome = waiting.outcome
        if isinstance(outcome, CallbackFailure):
            raise FailureError(Failure(outcome.error, outcome.cause))
        assert isinstance(outcome, CallbackSuccess)
        return outcome.output

    def _call(self, frame: Frame, action: Callable[[], T], timeout: int | None) -> T:
        execution = frame.execution
        clock = execution.clock
        limit = float(timeout if timeout is not None else DEFAULT_TIMEOUT_SECONDS)
        stop, deadline = execution.stop, execution.deadline
        # Which ends first while the function runs: the task's TimeoutSeconds or the execution's.
        execution_left = deadline - clock.now() if deadline is not None else None
        execution_first = execution_left is not None and execution_left < limit
        if execution_first:
            assert execution_left is not None
            limit = max(0.0, execution_left)
        # A StopExecution through ``ExecutionRun.stop`` needs no helper thread: the execution ends at
        # once and this thread unwinds when the function returns.
        if not isinstance(clock, SystemClock) or (timeout is None and deadline is None
                                                  and not execution.tasks_watch_stop):
            started = clock.now()
            result = action()
            if clock.now() - started > limit:
                raise ExecutionTimedOut() if execution_first else FailureError.of(StatesError.TIMEOUT, None)
            return result
        # Real time: the call runs in a helper thread so the state can give up after its timeout,
        # and a StopExecution ends the execution without waiting for the function to return (on AWS
        # too the invocation carries on; only its result is ignored).
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = action()
            except BaseException as exc:  # handed to the waiting thread below
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"task-{self.name}", daemon=True)
        worker.start()
        if stop is None:
            worker.join(limit)
        else:
            give_up = time.monotonic() + limit
            while worker.is_alive() and not stop.is_set():
                remaining = give_up - time.monotonic()
                if remaining <= 0:
                    break
                worker.join(min(remaining, STOP_POLL_SECONDS))
            if worker.is_alive() and stop.is_set():
                raise ExecutionAborted()
        if worker.is_alive():
            raise ExecutionTimedOut() if execution_first else FailureError.of(StatesError.TIMEOUT, None)
        if "error" in box:
            raise box["error"]
        value: T = box["result"]
        return value

    def may_block(self) -> bool:
        return self.resource.may_block()
