"""The execution operations: Start, StartSync, Describe, List, GetExecutionHistory, Stop.

Executions run on the execution service, each on a thread of its own; a request
only starts, reads or stops them. StartSyncExecution waits for its execution
without holding a thread: the service's listener resolves the request's future.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Final

from scones.executions.machines import MachineType
from scones.executions.service import ExecutionAlreadyExists as NameTaken
from scones.executions.service import ExecutionDoesNotExist as NoSuchExecution
from scones.executions.service import ExecutionService
from scones.gateway.stepfunctions import arns, shapes, tokens
from scones.gateway.stepfunctions.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    InvalidName,
    StateMachineTypeNotSupported,
    ValidationException,
)
from scones.workflow.asl.executor import Execution, ExecutionRun, ExecutionStatus
from scones.workflow.asl.jsontext import PAYLOAD_LIMIT_BYTES, JsonTextError, parse_json

_HISTORY: Final = "history"
_HISTORY_REVERSED: Final = "history-reversed"
#: Statuses no local execution ever has (redrive is not served).
_NEVER: Final = frozenset({"PENDING_REDRIVE"})


class ExecutionOperations:
    def __init__(self, executions: ExecutionService,
                 map_run_executions: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.executions = executions
        #: ListExecutions of a map run (``MapRunOperations.list_executions``).
        self.map_run_executions = map_run_executions
        self.completions = Completions()
        executions.listeners.append(self.completions.heard)

    def start_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        run = self._start(params)
        return {"executionArn": run.record.execution_arn, "startDate": run.record.start_time}

    async def start_sync_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """An Express execution run to its end; STANDARD machines are refused, as on AWS."""
        machine = self.executions.state_machine(arns.state_machine_name(params["stateMachineArn"]))
        if machine.type is not MachineType.EXPRESS:
            raise StateMachineTypeNotSupported.here()
        run = self._start(params)
        return shapes.start_sync_execution(await self.completions.wait(run))

    def _start(self, params: dict[str, Any]) -> ExecutionRun:
        machine = arns.state_machine_name(params["stateMachineArn"])
        name = arns.check_name(params["name"]) if "name" in params else None
        execution_input = _execution_input(params.get("input"))
        try:
            return self.executions.start(machine, execution_input, name=name)
        except NameTaken as exc:
            arn = self.executions.state_machine_arn(machine).replace(":stateMachine:", ":execution:", 1)
            raise ExecutionAlreadyExists.of(f"{arn}:{name}") from exc

    def describe_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        return shapes.describe_execution(find_execution(self.executions, params["executionArn"]))

    def list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, running ones included; Express state machines keep no list (as on AWS)."""
        given = [k for k in ("stateMachineArn", "mapRunArn") if params.get(k) is not None]
        if len(given) != 1:
            raise ValidationException("Must provide a StateMachine ARN or a MapRun ARN, but not both",
                                      reason="MISSING_REQUIRED_PARAMETER")
        if given == ["mapRunArn"]:
            return self.map_run_executions(params)
        machine = self.executions.state_machine(arns.state_machine_name(params["stateMachineArn"]))
        if machine.type is MachineType.EXPRESS:
            raise StateMachineTypeNotSupported.here()
        status = params.get("statusFilter")
        if status in _NEVER or params.get("redriveFilter") == "REDRIVEN":
            return {"executions": []}
        page = self.executions.list(state_machine=machine.name,
                                    status=ExecutionStatus(status) if status is not None else None,
                                    limit=tokens.page_size(params.get("maxResults")),
                                    next_token=params.get("nextToken"))
        return {"executions": [shapes.execution_item(s) for s in page.items], "nextToken": page.next_token}

    def get_execution_history(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = find_execution(self.executions, params["executionArn"])
        events = execution.events()
        reverse = bool(params.get("reverseOrder", False))
        kind = _HISTORY_REVERSED if reverse else _HISTORY
        if reverse:
            events = events[::-1]
        start = tokens.offset(params.get("nextToken"), kind, len(events))
        end = start + tokens.page_size(params.get("maxResults"))
        include = params.get("includeExecutionData", True)
        return {"events": [shapes.history_event(e, include) for e in events[start:end]],
                "nextToken": tokens.encode(kind, end) if end < len(events) else None}

    def stop_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        """A running execution ends ABORTED now (with the error and cause given); an ended one stays as it is."""
        execution = find_execution(self.executions, params["executionArn"])
        stopped = self.executions.stop(execution.name, error=params.get("error"), cause=params.get("cause"))
        return {"stopDate": stopped.stop_time if stopped.stop_time is not None else self.executions.clock.now()}


def find_execution(executions: ExecutionService, arn: str) -> Execution:
    """The Standard execution an ARN names, running or kept; ``ExecutionDoesNotExist`` (with the ARN)
    also when the name belongs to another state machine's execution."""
    ref = arns.execution(arn)
    try:
        arns.check_name(ref.name)
        found = executions.describe(ref.name)
    except (NoSuchExecution, InvalidName) as exc:
        raise ExecutionDoesNotExist.of(arn) from exc
    if found.state_machine_arn.rsplit(":", 1)[-1] != ref.state_machine:
        raise ExecutionDoesNotExist.of(arn)
    return found


def _execution_input(text: str | None) -> Any:
    """StartExecution's ``input``: JSON text of at most 256 KiB in UTF-8 (none means ``{}``)."""
    if text is None:
        return {}
    if len(text) * 4 > PAYLOAD_LIMIT_BYTES and len(text.encode("utf-8")) > PAYLOAD_LIMIT_BYTES:
        raise InvalidExecutionInput.of(f"The input is larger than the maximum size of {PAYLOAD_LIMIT_BYTES} "
                                       "bytes (UTF-8)")
    if not text.strip():
        raise InvalidExecutionInput.of("Invalid execution input.")
    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise InvalidExecutionInput.of(str(exc)) from exc


class Completions:
    """Requests waiting for their execution's end, woken by the execution service's listener.

    A waiting request holds no thread: its future is resolved on its own event loop when the
    execution's thread reports the end. The future is registered before ``done`` is looked at,
    so an end that comes in between is never missed.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[Execution]]] = {}
        self._lock = threading.Lock()

    async def wait(self, run: ExecutionRun) -> Execution:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Execution] = loop.create_future()
        arn = run.record.execution_arn
        with self._lock:
            self._waiting[arn] = (loop, future)
        try:
            if run.done.is_set():
                return run.record
            return await future
        finally:
            with self._lock:
                self._waiting.pop(arn, None)

    def heard(self, execution: Execution) -> None:
        """The execution service's listener (on the execution's thread)."""
        with self._lock:
            waiting = self._waiting.pop(execution.execution_arn, None)
        if waiting is not None:
            loop, future = waiting
            loop.call_soon_threadsafe(_resolve, future, execution)


def _resolve(future: asyncio.Future[Execution], execution: Execution) -> None:
    if not future.done():
        future.set_result(execution)
