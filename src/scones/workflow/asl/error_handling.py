"""``Retry`` and ``Catch``: one class per construct, outcomes as enums."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from scones.workflow.asl.checks import SCHEMA, Checker, Where, is_int
from scones.workflow.asl.dataflow import PathSpec, path_spec
from scones.workflow.asl.errors import error_matches
from scones.workflow.asl.fields import Field, optional_field
from scones.workflow.asl.query_language import QueryLanguage

DEFAULT_INTERVAL_SECONDS: Final = 1
DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_BACKOFF_RATE: Final = 2.0
RETRY_FIELDS: Final = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                                 "JitterStrategy", "Comment"})
CATCH_FIELDS: Final = {
    QueryLanguage.JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    QueryLanguage.JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}


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

    @staticmethod
    def validate(checker: Checker, props: dict[str, Any], where: Where, last: bool) -> None:
        """One Retry entry; ``last`` tells whether it is the last one (``States.ALL`` must be)."""
        checker.unknown_fields(props, where, RETRY_FIELDS)
        _validate_error_equals(checker, props, where, last)
        for key, minimum in (("IntervalSeconds", 1), ("MaxAttempts", 0), ("MaxDelaySeconds", 1)):
            if key in props and (not is_int(props[key]) or props[key] < minimum):
                checker.add(SCHEMA, f"{key} must be an integer >= {minimum}", *where, key)
        if "BackoffRate" in props:
            rate = props["BackoffRate"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate < 1.0:
                checker.add(SCHEMA, "BackoffRate must be a number >= 1.0", *where, "BackoffRate")
        if "JitterStrategy" in props and props["JitterStrategy"] not in ("FULL", "NONE"):
            checker.add(SCHEMA, "JitterStrategy must be FULL or NONE", *where, "JitterStrategy")

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

    def matches(self, error: str | None, aliases: tuple[str, ...] = ()) -> bool:
        return any(error_matches(p, error, aliases) for p in self.error_equals)

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

    def decide(self, error: str | None, aliases: tuple[str, ...] = ()) -> tuple[RetryOutcome, Retrier | None, int]:
        for i, retrier in enumerate(self.retriers):
            if retrier.matches(error, aliases):
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

    @staticmethod
    def validate(checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                 language: QueryLanguage, last: bool) -> None:
        """One Catch entry of a state beside ``states``; ``last`` as for ``Retrier.validate``."""
        checker.unknown_fields(props, where, CATCH_FIELDS[language])
        _validate_error_equals(checker, props, where, last)
        if "Next" not in props:
            checker.add(SCHEMA, "These fields are required: [Next]", *where)
        else:
            checker.target(props["Next"], states, (*where, "Next"))
        if "ResultPath" in props:
            checker.path(props["ResultPath"], (*where, "ResultPath"), reference=True, result_path=True)
        if "Assign" in props:
            checker.assign(props["Assign"], (*where, "Assign"), language)
        if "Output" in props:
            checker.jsonata(props["Output"], (*where, "Output"))

    @classmethod
    def from_props(cls, props: dict[str, Any], language: QueryLanguage) -> Catcher:
        return cls(tuple(props["ErrorEquals"]), props["Next"], path_spec(props, "ResultPath"),
                   optional_field(props, language, "Assign"), optional_field(props, language, "Output"))

    def matches(self, error: str | None, aliases: tuple[str, ...] = ()) -> bool:
        return any(error_matches(p, error, aliases) for p in self.error_equals)


def find_catcher(catchers: list[Catcher], error: str | None, aliases: tuple[str, ...] = ()) -> Catcher | None:
    for catcher in catchers:
        if catcher.matches(error, aliases):
            return catcher
    return None


def validate_error_handling(checker: Checker, props: dict[str, Any], where: Where, states: dict[str, Any],
                            language: QueryLanguage) -> None:
    """``Retry`` and ``Catch`` of a Task, Parallel or Map state."""
    for kind in ("Retry", "Catch"):
        if kind not in props:
            continue
        entries = props[kind]
        if not isinstance(entries, list):
            checker.add(SCHEMA, f"{kind} must be an array", *where, kind)
            continue
        for i, entry in enumerate(entries):
            at = (*where, kind, i)
            if not isinstance(entry, dict):
                checker.add(SCHEMA, f"Each {kind} entry must be a JSON object", *at)
                continue
            if kind == "Retry":
                Retrier.validate(checker, entry, at, last=i == len(entries) - 1)
            else:
                Catcher.validate(checker, entry, at, states, language, last=i == len(entries) - 1)


def _validate_error_equals(checker: Checker, props: dict[str, Any], where: Where, last: bool) -> None:
    errors = props.get("ErrorEquals")
    if errors is None:
        checker.add(SCHEMA, "These fields are required: [ErrorEquals]", *where)
        return
    if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
        checker.add(SCHEMA, "ErrorEquals must be a non-empty array of strings", *where, "ErrorEquals")
        return
    if "States.ALL" in errors and (len(errors) > 1 or not last):
        checker.add(SCHEMA, "States.ALL must appear alone in ErrorEquals and only in the last Retrier/Catcher",
                    *where, "ErrorEquals")
