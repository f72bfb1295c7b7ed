"""What an execution's integrations reach outside the interpreter, handed in by the owner of its executions.

``Connections`` bundles them: the task tokens callbacks wait on (always there: a
plain ``Executor`` keeps its own), the state machines ``states:startExecution``
starts executions of (the execution service; without one there are none), and where
``sns:publish`` messages go (without a publisher they are only recorded in the
history). The interpreter sees only these protocols, never the service behind them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from scones.workflow.asl.callbacks import TaskTokens

if TYPE_CHECKING:
    from scones.workflow.asl.executor import Execution


class ServiceCallError(Exception):
    """A call to an AWS API that the service refused: ``code`` is the API's error code (``StateMachineDoesNotExist``)
    and ``message`` its message, as a Task reports them (``StepFunctions.<code>Exception``)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ChildExecution(Protocol):
    """An execution started by a Task: its live record, whether it has ended, and how to stop it."""

    @property
    def record(self) -> Execution: ...

    @property
    def done(self) -> threading.Event: ...

    def stop(self, error: str | None, cause: str | None) -> None: ...


class ChildExecutions(Protocol):
    """``StartExecution`` for a running execution (``arn:aws:states:::states:startExecution``)."""

    def start_child(self, state_machine_arn: str, input: Any, *, name: str | None,
                    parent_arn: str) -> ChildExecution:
        """Start an execution of the state machine; raises ``ServiceCallError`` as the API would refuse."""
        ...


class MessagePublisher(Protocol):
    """``Publish`` for a running execution (``arn:aws:states:::sns:publish``)."""

    def publish(self, message: dict[str, Any]) -> None:
        """``message``: ``MessageId``, ``TopicArn`` (or ``TargetArn``/``PhoneNumber``), ``Subject``, ``Message``
        (text), ``MessageAttributes``, ``Timestamp`` and the ``ExecutionArn`` that published it."""
        ...


@dataclass(frozen=True)
class Connections:
    callbacks: TaskTokens = field(default_factory=TaskTokens)
    children: ChildExecutions | None = None
    publisher: MessagePublisher | None = None
