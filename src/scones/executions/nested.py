"""Executions started by executions: ``arn:aws:states:::states:startExecution`` on the execution service.

A child is an execution like any other (listed, described, stopped, kept with its
history); only how it was started differs. Refusals are StartExecution's own
(``StateMachineDoesNotExist``, ``ExecutionAlreadyExists``...), which the Task
reports as ``StepFunctions.<Code>Exception``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from scones.executions.catalog import StateMachineDeleting, StateMachineDoesNotExist
from scones.executions.errors import ExecutionAlreadyExists
from scones.workflow.asl.connections import ServiceCallError
from scones.workflow.asl.errors import InputError
from scones.workflow.asl.executor import Execution, ExecutionRun

if TYPE_CHECKING:
    from scones.executions.service import ExecutionService


class ServiceChildren:
    """``ChildExecutions`` over an ``ExecutionService``: children of its executions run on it too."""

    def __init__(self, service: ExecutionService) -> None:
        self._service = service

    def start_child(self, state_machine_arn: str, input: Any, *, name: str | None, parent_arn: str) -> Child:
        service = self._service
        parts = state_machine_arn.split(":")
        if parts[0] != "arn" or parts[5:6] != ["stateMachine"] or not parts[6:7] or not parts[6]:
            # A state machine ARN names the state machine: ``arn:aws:states:<region>:<account>:stateMachine:<name>``.
            raise ServiceCallError("InvalidArn", f"Invalid Arn: 'Invalid ARN prefix: {state_machine_arn}'")
        machine = parts[6]
        try:
            run = service.start(machine, input, name=name)
        except StateMachineDoesNotExist as exc:
            raise ServiceCallError("StateMachineDoesNotExist",
                                   f"State Machine Does Not Exist: '{state_machine_arn}'") from exc
        except StateMachineDeleting as exc:
            raise ServiceCallError("StateMachineDeleting",
                                   f"State Machine Is Being Deleted: '{state_machine_arn}'") from exc
        except ExecutionAlreadyExists as exc:
            arn = service.state_machine_arn(machine).replace(":stateMachine:", ":execution:", 1)
            raise ServiceCallError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}:{name}'") from exc
        except InputError as exc:
            raise ServiceCallError("InvalidExecutionInput",
                                   f"Invalid State Machine Execution Input: '{exc.message}'") from exc
        return Child(service, run)


class Child:
    """A child execution as its parent's Task sees it."""

    def __init__(self, service: ExecutionService, run: ExecutionRun) -> None:
        self._service = service
        self._run = run

    @property
    def record(self) -> Execution:
        return self._run.record

    @property
    def done(self) -> threading.Event:
        return self._run.done

    def stop(self, error: str | None, cause: str | None) -> None:
        """StopExecution on the service (so the record is kept at once, as any stopped execution's)."""
        if not self._run.done.is_set():
            self._service.stop(self._run.record.execution_arn, error=error, cause=cause)
