"""What every state does around its own work: history events, context object, output checks, Assign.

Subclasses implement only ``_execute`` (like LocalStack's ``_eval_state``);
entering/exiting events, the payload quota and committing variables live here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from scones.workflow.asl.context import Frame
from scones.workflow.asl.dataflow import Flow
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import fits_payload_limit, to_compact_json
from scones.workflow.asl.query_language import QueryLanguage


@dataclass
class Outcome:
    """What a state hands on: its output, the next state (None = end) and the variables it assigns."""

    output: Any
    next: str | None
    assigned: dict[str, Any] | None = None


class State(ABC):
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

    def transitions(self) -> list[str]:
        """Names of the states this one can go to (for reachability checks)."""
        return [self.next] if self.next else []

    def may_block(self) -> bool:
        """Whether running this state can wait on I/O or time (decides if Map/Parallel use threads)."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
