"""Task tokens: tasks that wait for ``SendTaskSuccess``, ``SendTaskFailure`` or ``SendTaskHeartbeat``.

A ``.waitForTaskToken`` task opens a token before its ``Parameters`` are evaluated
(``$$.Task.Token``), calls its service, and then waits until someone answers with
the token. ``TaskTokens`` holds the open ones; its owner (the execution service, one
per process) hands it to every execution it runs, so an answer given through any
front-end (the Step Functions API of ``scones up``, a test) reaches the waiting task.

A token is opaque to its users but not to us: it carries the ARN of the execution
that issued it, so an answer for a task that is gone can be told apart from one
that never existed (``TaskTimedOut`` against ``TaskDoesNotExist``), also after the
task's record has left memory. AWS's answers are in docs/aws-facts.md, Task tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from scones.errors import WorkflowError
from scones.workflow.asl.jsontext import JsonTextError, parse_json

LOG = logging.getLogger(__name__)

#: Closed tokens remembered, so a late answer gets TaskTimedOut rather than TaskDoesNotExist.
CLOSED_REMEMBERED: Final = 10_000
_VERSION: Final = 1


class CallbackErrorKind(str, Enum):
    """Why an answer was refused, named as the Step Functions API names it."""

    INVALID_TOKEN = "InvalidToken"
    TASK_DOES_NOT_EXIST = "TaskDoesNotExist"
    TASK_TIMED_OUT = "TaskTimedOut"
    INVALID_OUTPUT = "InvalidOutput"


#: AWS's messages (docs/aws-facts.md, Task tokens); TaskDoesNotExist and InvalidOutput are scones' wording.
_MESSAGES: Final = {
    CallbackErrorKind.INVALID_TOKEN: "Invalid Token: 'Invalid token'",
    CallbackErrorKind.TASK_TIMED_OUT: "Task Timed Out: 'Provided task does not exist anymore'",
    CallbackErrorKind.TASK_DOES_NOT_EXIST: "Task Does Not Exist: 'Provided task does not exist'",
}


class CallbackError(WorkflowError):
    """An answer for a task that cannot take it; ``kind`` is the API's error code."""

    def __init__(self, kind: CallbackErrorKind, message: str | None = None) -> None:
        super().__init__(message or _MESSAGES[kind], hint=_HINTS[kind])
        self.kind = kind


_HINTS: Final = {
    CallbackErrorKind.INVALID_TOKEN: "pass the token exactly as the task received it ($$.Task.Token)",
    CallbackErrorKind.TASK_TIMED_OUT: "the task no longer waits: it was answered already, timed out, or its "
                                      "execution ended or was stopped",
    CallbackErrorKind.TASK_DOES_NOT_EXIST: "no execution known here issued this token (executions waiting in "
                                           "an earlier 'scones up' do not survive its restart)",
    CallbackErrorKind.INVALID_OUTPUT: "the output must be JSON text, e.g. '{\"label\": \"motorcycle\"}'",
}


@dataclass(frozen=True)
class CallbackSuccess:
    """``SendTaskSuccess``: the task's result."""

    output: Any


@dataclass(frozen=True)
class CallbackFailure:
    """``SendTaskFailure``: the task fails with this error and cause."""

    error: str | None
    cause: str | None


CallbackOutcome = CallbackSuccess | CallbackFailure


def issue_token(execution_arn: str, state_name: str) -> str:
    """A new token: URL-safe base64 of a small JSON document (ARN, state, nonce)."""
    doc = {"v": _VERSION, "x": execution_arn, "s": state_name, "n": uuid.uuid4().hex}
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(text).decode("ascii").rstrip("=")


def token_execution(token: str) -> str | None:
    """The ARN of the execution that issued ``token``; None when this service did not issue it."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if not isinstance(doc, dict) or doc.get("v") != _VERSION or not isinstance(doc.get("x"), str):
        return None
    arn: str = doc["x"]
    return arn


class WaitingTask:
    """One open token: a task of ``execution_arn`` in state ``state_name`` waits for its answer."""

    def __init__(self, token: str, execution_arn: str, state_name: str, now: Callable[[], float]) -> None:
        self.token = token
        self.execution_arn = execution_arn
        self.state_name = state_name
        #: Set once an answer (success or failure) is in; ``outcome`` holds it.
        self.answered = threading.Event()
        self.outcome: CallbackOutcome | None = None
        #: The execution's clock, and when the last heartbeat came by it: the heartbeat timeout counts from here.
        self.now = now
        self.last_beat = now()

    def beat(self) -> None:
        self.last_beat = self.now()

    def __repr__(self) -> str:
        return f"WaitingTask({self.execution_arn!r}, {self.state_name!r})"


Listener = Callable[[WaitingTask], None]


class TaskTokens:
    """The open task tokens of every execution one owner runs, and the recently closed ones.

    ``listeners`` hear of each token as it opens (``scones workflow run`` prints it), on
    the execution's thread.
    """

    def __init__(self, *, listeners: tuple[Listener, ...] = ()) -> None:
        self.listeners = list(listeners)
        self._open: dict[str, WaitingTask] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    # -- the interpreter's side -----------------------------------------------------------
    def open(self, execution_arn: str, state_name: str, now: Callable[[], float] = time.time) -> WaitingTask:
        """A new token for a task; ``now`` is the execution's clock (heartbeats are timed with it)."""
        task = WaitingTask(issue_token(execution_arn, state_name), execution_arn, state_name, now)
        with self._lock:
            self._open[task.token] = task
        for listener in self.listeners:
            try:
                listener(task)
            except Exception:  # a listener's failure never changes the task
                LOG.exception("a task token listener failed")
        return task

    def close(self, task: WaitingTask) -> None:
        """The task ended (answered, timed out, stopped): answers from now on get TaskTimedOut."""
        with self._lock:
            if self._open.pop(task.token, None) is not None:
                self._remember_closed(task.token)

    def close_execution(self, execution_arn: str) -> int:
        """StopExecution: every token the execution holds is closed at once; returns how many."""
        with self._lock:
            tokens = [t for t, task in self._open.items() if task.execution_arn == execution_arn]
            for token in tokens:
                del self._open[token]
                self._remember_closed(token)
        return len(tokens)

    def waiting(self) -> list[WaitingTask]:
        with self._lock:
            return list(self._open.values())

    def _remember_closed(self, token: str) -> None:
        self._closed[token] = None
        if len(self._closed) > CLOSED_REMEMBERED:
            self._closed.popitem(last=False)

    # -- the answers (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) ----------------
    def succeed(self, token: str, output: str) -> WaitingTask:
        """``output`` is JSON text, as the API carries it."""
        task = self._find(token)
        try:
            value = parse_json(output)
        except JsonTextError as exc:
            raise CallbackError(CallbackErrorKind.INVALID_OUTPUT, f"Invalid Output: '{exc}'") from exc
        self._answer(task, CallbackSuccess(value))
        return task

    def fail(self, token: str, error: str | None = None, cause: str | None = None) -> WaitingTask:
        task = self._find(token)
        self._answer(task, CallbackFailure(error, cause))
        return task

    def heartbeat(self, token: str) -> WaitingTask:
        task = self._find(token)
        task.beat()
        return task

    def _find(self, token: str) -> WaitingTask:
        with self._lock:
            task = self._open.get(token)
            closed = token in self._closed
        if task is not None:
            return task
        if closed:
            raise CallbackError(CallbackErrorKind.TASK_TIMED_OUT)
        if token_execution(token) is None:
            raise CallbackError(CallbackErrorKind.INVALID_TOKEN)
        raise CallbackError(CallbackErrorKind.TASK_DOES_NOT_EXIST)

    def _answer(self, task: WaitingTask, outcome: CallbackOutcome) -> None:
        """The first answer wins; the token closes with it (a second answer gets TaskTimedOut)."""
        with self._lock:
            if self._open.get(task.token) is not task or task.answered.is_set():
                raise CallbackError(CallbackErrorKind.TASK_TIMED_OUT)
            task.outcome = outcome
            task.answered.set()
            del self._open[task.token]
            self._remember_closed(task.token)
