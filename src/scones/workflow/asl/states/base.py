"""What every state does around its own work: history events, context object, output checks, Assign.

One class per state type holds all there is to know about it: the fields it
allows per query language (``FIELDS``), its own static checks (``_validate``),
how it is built from its properties (``build``) and what it does (``_execute``,
like LocalStack's ``_eval_state``). Entering/exiting events, the payload quota,
committing variables and the checks every state shares live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from scones.workflow.asl.checks import Checker, FieldTable, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.dataflow import Flow
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import fits_payload_limit, to_compact_json
from scones.workflow.asl.query_language import QueryLanguage

if TYPE_CHECKING:
    from scones.workflow.asl.program import StateMachine
    from scones.workflow.asl.resources import TaskResource


@dataclass
class Outcome:
    """What a state hands on: its output, the next state (None = end) and the variables it assigns."""

    output: Any
    next: str | None
    assigned: dict[str, Any] | None = None


class BuildContext(Protocol):
    """What building a state may need beyond its own properties (``parse.Builder`` provides it)."""

    def machine(self, node: dict[str, Any], language: QueryLanguage) -> StateMachine:
        """A nested state machine: a Parallel branch or a Map item processor."""
        ...

    def resource(self, arn: str) -> TaskResource:
        """The resource behind a Task's ``Resource`` ARN."""
        ...


class State(ABC):
    #: The fields this type allows, per query language.
    FIELDS: ClassVar[FieldTable]
    #: Whether the state needs ``Next`` or ``"End": true`` (Choice, Succeed and Fail do not).
    has_transition: ClassVar[bool] = True
    entered_event: ClassVar[EventType]
    exited_event: ClassVar[EventType | None]
    has_retry_count: ClassVar[bool] = False

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        self.name = name
        self.type = props["Type"]
        self.language = language
        self.next: str | None = props.get("Next")
        self.end = bool(props.get("End", False))
        self.flow = Flow(props, language)

    @classmethod
    def validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                 language: QueryLanguage) -> None:
        """Report every problem of ``props`` (the state at ``where``, beside ``states``) to ``checker``."""
        checker.fields(props, where, cls.FIELDS, language)
        if cls.has_transition:
            checker.transition(props, where, states)
        checker.data_fields(props, where, language)
        cls._validate(checker, props, where, states, language)

    @classmethod
    def _validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                  language: QueryLanguage) -> None:
        """The checks of this type's own fields (none by default)."""
        return None

    @classmethod
    def build(cls, name: str, props: dict[str, Any], language: QueryLanguage, context: BuildContext) -> State:
        """The runnable state, from properties the validator accepted."""
        return cls(name, props, language)

    def run(self, frame: Frame, raw: Any) -> Outcome:
        frame.entered_event_id = frame.event(self.entered_event, {"name": self.name, "input": raw})
        frame.enter_state(self.name, self.has_retry_count)
        try:
            outcome = self._execute(frame, raw)
        except FailureError as exc:
            if exc.failure.error == StatesError.QUERY_EVALUATION_ERROR.value:
                # AWS records the failed JSONata evaluation before the execution fails.
                frame.event(EventType.EVALUATION_FAILED, {"error": exc.failure.error, "cause": exc.failure.cause,
                                                          "state": self.name})
            raise
        output_text = to_compact_json(outcome.output)
        if not fits_payload_limit(output_text):
            raise FailureError.of(
                StatesError.DATA_LIMIT_EXCEEDED,
                f"The state/task '{self.name}' returned a result with a size exceeding the maximum number of "
                f"bytes service limit.")
        if outcome.assigned:
            frame.variables.assign(outcome.assigned)
        if self.exited_event is not None:
            details: dict[str, Any] = {"name": self.name, "output": outcome.output}
            if outcome.assigned:
                details["assignedVariables"] = outcome.assigned
            frame.event(self.exited_event, details)
            frame.execution.history.remember_text(outcome.output, output_text)
        return outcome

    @abstractmethod
    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        """The state's own work: from its raw input to its output and next state."""

    def may_block(self) -> bool:
        """Whether running this state can wait on I/O or time (decides if Map/Parallel use threads)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
