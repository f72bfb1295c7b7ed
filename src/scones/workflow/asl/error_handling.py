"""``Retry`` and ``Catch``: one class per construct, outcomes as enums."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from scones.workflow.asl.dataflow import PathSpec, path_spec
from scones.workflow.asl.errors import error_matches
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.query_language import QueryLanguage

DEFAULT_INTERVAL_SECONDS: Final = 1
DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_BACKOFF_RATE: Final = 2.0


class JitterStrategy(str, Enum):
    FULL = "FULL"
    NONE = "NONE"


class RetryOutcome(Enum):
    RETRY = "retry"
    EXHAUSTED = "exhausted"
    NOT_MATCHED = "not-matched"


@dataclass
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_rate: float = DEFAULT_BACKOFF_RATE
    max_delay_seconds: float | None = None
    jitter: JitterStrategy = JitterStrategy.NONE

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> Retrier:
        return cls(
            error_equals=tuple(props["ErrorEquals"]),
            interval_seconds=props.get("IntervalSeconds", DEFAULT_INTERVAL_SECONDS),
            max_attempts=props.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS),
            backoff_rate=float(props.get("BackoffRate", DEFAULT_BACKOFF_RATE)),
            max_delay_seconds=props.get("MaxDelaySeconds"),
            jitter=JitterStrategy(props.get("JitterStrategy", "NONE")),
        )

    def matches(self, error: str | None) -> bool:
        return any(error_matches(p, error) for p in self.error_equals)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before retry number ``attempt`` (1-based): interval x backoff^(attempt-1), capped, jittered."""
        delay = self.interval_seconds * (self.backoff_rate ** (attempt - 1))
        if self.max_delay_seconds is not None:
            delay = min(delay, self.max_delay_seconds)
        if self.jitter is JitterStrategy.FULL:
            delay = rng.uniform(0, delay)
        return delay


class RetryState:
    """Per state visit: attempts are counted per retrier across the whole visit."""

    def __init__(self, retriers: list[Retrier]) -> None:
        self.retriers = retriers
        self.attempts = [0] * len(retriers)
        self.total = 0

    def decide(self, error: str | None) -> tuple[RetryOutcome, Retrier | None, int]:
        for i, retrier in enumerate(self.retriers):
            if retrier.matches(error):
                if self.attempts[i] >= retrier.max_attempts:
                    return RetryOutcome.EXHAUSTED, retrier, self.attempts[i]
                self.attempts[i] += 1
                self.total += 1
                return RetryOutcome.RETRY, retrier, self.attempts[i]
        return RetryOutcome.NOT_MATCHED, None, 0


class CatchOutcome(Enum):
    CAUGHT = "caught"
    NOT_CAUGHT = "not-caught"


@dataclass
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: PathSpec
    assign: Field | None
    output: Field | None

    @classmethod
    def from_props(cls, props: dict[str, Any], language: QueryLanguage) -> Catcher:
        return cls(tuple(props["ErrorEquals"]), props["Next"], path_spec(props, "ResultPath"),
                   optional_field(props, language, "Assign"), optional_field(props, language, "Output"))

    def matches(self, error: str | None) -> bool:
        return any(error_matches(p, error) for p in self.error_equals)


def find_catcher(catchers: list[Catcher], error: str | None) -> Catcher | None:
    for catcher in catchers:
        if catcher.matches(error):
            return catcher
    return None
