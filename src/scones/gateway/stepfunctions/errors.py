"""Step Functions' errors as AWS answers them: the code botocore raises, AWS's message, the status.

Every answer that is not a success is built from one of these. The execution
service raises scones' own errors (``ExecutionDoesNotExist``, ``DefinitionError``...);
``translate`` turns them into these in one place, with the ARN the request named,
so the message reads as AWS's does (``Execution Does Not Exist: '<arn>'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from scones.errors import SconesError
from scones.executions.records import InvalidToken as InvalidTokenError
from scones.executions.service import (
    ExecutionAlreadyExists as ExecutionAlreadyExistsError,
)
from scones.executions.service import (
    ExecutionDoesNotExist as ExecutionDoesNotExistError,
)
from scones.executions.service import (
    StateMachineAlreadyExists as StateMachineAlreadyExistsError,
)
from scones.executions.service import (
    StateMachineDeleting as StateMachineDeletingError,
)
from scones.executions.service import (
    StateMachineDoesNotExist as StateMachineDoesNotExistError,
)
from scones.gateway.protocols.values import ProtocolError
from scones.workflow.asl.callbacks import CallbackError, CallbackErrorKind
from scones.workflow.asl.errors import DefinitionError, InputError


class SfnError(ProtocolError):
    """An error answer: ``code`` is the ``__type`` botocore raises as ``ClientError``; each subclass names its
    code and status once. ``fields`` are members of the error shape besides ``message`` (``reason``...)."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str, **fields: str) -> None:
        super().__init__(self.code, message, self.status, **fields)


class InvalidArn(SfnError):
    code = "InvalidArn"

    @classmethod
    def prefix(cls, arn: str) -> InvalidArn:
        return cls(f"Invalid Arn: 'Invalid ARN prefix: {arn}'")

    @classmethod
    def resource_type(cls, kind: str) -> InvalidArn:
        return cls(f"Invalid Arn: 'Resource type not valid in this context: {kind}'")


class InvalidName(SfnError):
    code = "InvalidName"

    @classmethod
    def of(cls, name: str) -> InvalidName:
        return cls(f"Invalid Name: '{name}'")


class InvalidDefinition(SfnError):
    code = "InvalidDefinition"

    @classmethod
    def of(cls, error: DefinitionError) -> InvalidDefinition:
        # AWS: Invalid State Machine Definition: 'CODE: message at /States/X, CODE: message at /...'
        return cls(f"Invalid State Machine Definition: '{', '.join(str(e) for e in error.errors)}'")


class InvalidExecutionInput(SfnError):
    code = "InvalidExecutionInput"

    @classmethod
    def of(cls, reason: str) -> InvalidExecutionInput:
        return cls(f"Invalid State Machine Execution Input: '{reason}'")


class InvalidToken(SfnError):
    code = "InvalidToken"

    @classmethod
    def of(cls, token: str) -> InvalidToken:
        return cls(f"Invalid Token: '{token}'")


class TaskDoesNotExist(SfnError):
    code = "TaskDoesNotExist"


class TaskTimedOut(SfnError):
    code = "TaskTimedOut"


class InvalidOutput(SfnError):
    code = "InvalidOutput"


#: SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat refusals, by the kind the execution service names.
_CALLBACK_ERRORS: Final[dict[CallbackErrorKind, type[SfnError]]] = {
    CallbackErrorKind.INVALID_TOKEN: InvalidToken,
    CallbackErrorKind.TASK_DOES_NOT_EXIST: TaskDoesNotExist,
    CallbackErrorKind.TASK_TIMED_OUT: TaskTimedOut,
    CallbackErrorKind.INVALID_OUTPUT: InvalidOutput,
}


class InvalidLoggingConfiguration(SfnError):
    code = "InvalidLoggingConfiguration"


class MissingRequiredParameter(SfnError):
    code = "MissingRequiredParameter"


class ValidationException(SfnError):
    code = "ValidationException"


class StateMachineDoesNotExist(SfnError):
    code = "StateMachineDoesNotExist"

    @classmethod
    def of(cls, arn: str) -> StateMachineDoesNotExist:
        return cls(f"State Machine Does Not Exist: '{arn}'")


class StateMachineAlreadyExists(SfnError):
    code = "StateMachineAlreadyExists"

    @classmethod
    def of(cls, arn: str) -> StateMachineAlreadyExists:
        return cls(f"State Machine Already Exists: '{arn}'")


class StateMachineDeleting(SfnError):
    code = "StateMachineDeleting"

    @classmethod
    def of(cls, arn: str) -> StateMachineDeleting:
        return cls(f"State Machine Is Being Deleted: '{arn}'")


class StateMachineTypeNotSupported(SfnError):
    code = "StateMachineTypeNotSupported"

    @classmethod
    def here(cls) -> StateMachineTypeNotSupported:
        return cls("This operation is not supported by this type of state machine")


class ExecutionDoesNotExist(SfnError):
    code = "ExecutionDoesNotExist"

    @classmethod
    def of(cls, arn: str) -> ExecutionDoesNotExist:
        return cls(f"Execution Does Not Exist: '{arn}'")


class ExecutionAlreadyExists(SfnError):
    code = "ExecutionAlreadyExists"

    @classmethod
    def of(cls, arn: str) -> ExecutionAlreadyExists:
        return cls(f"Execution Already Exists: '{arn}'")


class ResourceNotFound(SfnError):
    code = "ResourceNotFound"


class TooManyTags(SfnError):
    code = "TooManyTags"


class NotServed(SfnError):
    """An operation of the Step Functions API that this local endpoint does not offer."""

    code = "NotImplemented"
    status = 501


class ServiceUnavailable(SfnError):
    """The local service is shutting down (botocore retries a 503)."""

    code = "ServiceUnavailable"
    status = 503


#: scones' own errors -> the Step Functions error, given the ARN (or name) the request was about.
#: Looked up along the exception's MRO, so the most specific entry wins.
_BY_SUBJECT: Final[dict[type, Callable[[str], SfnError]]] = {
    StateMachineDoesNotExistError: StateMachineDoesNotExist.of,
    StateMachineAlreadyExistsError: StateMachineAlreadyExists.of,
    StateMachineDeletingError: StateMachineDeleting.of,
    ExecutionDoesNotExistError: ExecutionDoesNotExist.of,
    ExecutionAlreadyExistsError: ExecutionAlreadyExists.of,
}


def translate(exc: SconesError, subject: str) -> SfnError | None:
    """The answer for a scones error raised while serving a request about ``subject``; None when the
    error is not the client's (the gateway logs it and answers 500)."""
    if isinstance(exc, DefinitionError):
        return InvalidDefinition.of(exc)
    if isinstance(exc, CallbackError):  # its message is AWS's already
        return _CALLBACK_ERRORS[exc.kind](exc.message)
    if isinstance(exc, InvalidTokenError):
        return InvalidToken("Invalid Token: the nextToken was not handed out by this endpoint")
    for kind in type(exc).__mro__:
        factory = _BY_SUBJECT.get(kind)
        if factory is not None:
            return factory(subject)
    if isinstance(exc, InputError):  # what is left of an execution's input and name
        return InvalidExecutionInput.of(exc.message)
    return None
