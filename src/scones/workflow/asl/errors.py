"""Error names, failures as values, and definition problems.

A runtime failure is a value (``Failure``: error, cause) carried by exactly one
exception type (``FailureError``). Definition problems are collected as
``ValidationError`` values and raised together in one ``DefinitionError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from scones.errors import WorkflowError


class StatesError(str, Enum):
    """The predefined error names; the ``States.`` prefix is reserved for them."""

    ALL = "States.ALL"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    TIMEOUT = "States.Timeout"
    TASK_FAILED = "States.TaskFailed"
    PERMISSIONS = "States.Permissions"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


class Cancelled(Exception):
    """A sibling branch or iteration failed: this one stops at its next transition (or wait)."""


class ExecutionTimedOut(Exception):
    """The execution ran past its ``TimeoutSeconds``."""


class ExecutionAborted(Exception):
    """Someone asked the execution to stop (StopExecution)."""


class HistoryLimitExceeded(Exception):
    """The execution history reached its quota of events; the execution must end now."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"history limit of {limit} events reached")
        self.limit = limit


KNOWN_ERROR_NAMES: Final = frozenset(e.value for e in StatesError)

#: "States.ALL ... does not catch States.DataLimitExceeded or States.Runtime" (developer guide).
_NOT_MATCHED_BY_WILDCARDS: Final = frozenset({StatesError.RUNTIME.value, StatesError.DATA_LIMIT_EXCEEDED.value})


def error_matches(pattern: str, error: str | None, aliases: tuple[str, ...] = ()) -> bool:
    """Whether an ``ErrorEquals`` entry matches ``error``, with AWS's wildcard rules.

    ``States.ALL`` matches any error name except the terminal ones;
    ``States.TaskFailed`` matches any error except ``States.Timeout`` (and the terminal ones).
    ``aliases`` are further names the failure answers to without being reported under them
    (a heartbeat timeout is reported as ``States.Timeout`` and also matches ``States.HeartbeatTimeout``).
    """
    if pattern in aliases:
        return True
    name = error or ""
    if pattern == name:
        return name != StatesError.RUNTIME.value
    if name in _NOT_MATCHED_BY_WILDCARDS:
        return False
    if pattern == StatesError.ALL.value:
        return True
    if pattern == StatesError.TASK_FAILED.value:
        return name != StatesError.TIMEOUT.value and name != StatesError.HEARTBEAT_TIMEOUT.value
    return False


@dataclass(frozen=True)
class Failure:
    """What went wrong in a state: the error name and its cause, both as AWS reports them."""

    error: str | None
    cause: str | None = None
    #: Names a Retry or Catch may match besides ``error`` (never reported; see ``error_matches``).
    aliases: tuple[str, ...] = ()

    def as_output(self) -> dict[str, str | None]:
        """The error output a Catch hands on: ``{"Error": ..., "Cause": ...}``."""
        out: dict[str, str | None] = {}
        if self.error is not None:
            out["Error"] = self.error
        if self.cause is not None:
            out["Cause"] = self.cause
        return out


class FailureError(Exception):
    """The one exception that carries a ``Failure`` up to the nearest Retry/Catch or the execution."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.error}: {failure.cause}")
        self.failure = failure

    @classmethod
    def of(cls, error: StatesError | str, cause: str | None) -> FailureError:
        name = error.value if isinstance(error, StatesError) else error
        return cls(Failure(name, cause))

    @classmethod
    def heartbeat_timeout(cls) -> FailureError:
        """No heartbeat within ``HeartbeatSeconds``: AWS records ``States.Timeout`` (TaskTimedOut, no cause),
        and ``States.HeartbeatTimeout`` matches it in Retry and Catch (docs/aws-facts.md, Task tokens)."""
        return cls(Failure(StatesError.TIMEOUT.value, None, (StatesError.HEARTBEAT_TIMEOUT.value,)))


@dataclass(frozen=True)
class ValidationError:
    """One problem in a definition, located by a JSON pointer, named by AWS's diagnostic code."""

    code: str
    message: str
    location: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message} at {self.location or '/'}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "location": self.location}


class DefinitionError(WorkflowError):
    """A definition AWS would reject; carries every problem found, not just the first."""

    def __init__(self, errors: Iterable[ValidationError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(
            f"Invalid State Machine Definition ({len(self.errors)} problem(s)):\n{lines}",
            hint="fix the fields named above; 'scones workflow validate --definition FILE' lists them all",
        )


class InputError(WorkflowError):
    """An execution input (or name) that cannot be used."""
