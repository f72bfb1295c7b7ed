"""The shared part of Task, Parallel and Map: ``ResultSelector``, ``Retry`` and ``Catch`` around the work."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from scones.workflow.asl.checks import Checker, Where
from scones.workflow.asl.context import Frame
from scones.workflow.asl.error_handling import (
    Catcher,
    Retrier,
    RetryOutcome,
    RetryState,
    find_catcher,
    validate_error_handling,
)
from scones.workflow.asl.errors import FailureError
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import Outcome, State


class ExecutionState(State):
    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage) -> None:
        super().__init__(name, props, language)
        self.retriers = [Retrier.from_props(r) for r in props.get("Retry", [])]
        self.catchers = [Catcher.from_props(c, language) for c in props.get("Catch", [])]

    @classmethod
    def _validate(cls, checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                  language: QueryLanguage) -> None:
        cls._validate_work(checker, props, where, language)
        validate_error_handling(checker, props, where, states, language)

    @classmethod
    @abstractmethod
    def _validate_work(cls, checker: Checker, props: dict[str, Any], where: Where, language: QueryLanguage) -> None:
        """The checks of the fields that describe the work (before Retry and Catch)."""

    @abstractmethod
    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        """Produce the raw result (before ResultSelector); raise FailureError on failure."""

    def _execute(self, frame: Frame, raw: Any) -> Outcome:
        flow = self.flow
        retry = RetryState(self.retriers) if self.retriers else None
        while True:
            try:
                effective = flow.effective_input(frame, raw)
                result = flow.select_result(frame, raw, self._work(frame, raw, effective))
                assigned = flow.assignments(frame, raw, effective, result)
                return Outcome(flow.output(frame, raw, effective, result), self.next, assigned)
            except FailureError as exc:
                error, aliases = exc.failure.error, exc.failure.aliases
                if retry is not None:
                    outcome, retrier, attempt = retry.decide(error, aliases)
                    if outcome is RetryOutcome.RETRY:
                        assert retrier is not None
                        frame.execution.pause(retrier.delay(attempt, frame.execution.intrinsics.rng), frame.cancel)
                        if self.has_retry_count:
                            frame.set_retry_count(retry.total)
                        continue
                catcher = find_catcher(self.catchers, error, aliases)
                if catcher is None:
                    raise
                return self._caught(frame, raw, exc, catcher)

    def _caught(self, frame: Frame, raw: Any, exc: FailureError, catcher: Catcher) -> Outcome:
        error_output = exc.failure.as_output()
        assigned = self.flow.catch_assignments(frame, raw, error_output, catcher)
        return Outcome(self.flow.catch_output(frame, raw, error_output, catcher), catcher.next, assigned)
