"""Retry and Catch, with the developer guide's rules (counting, backoff, wildcards, terminal errors)."""

from __future__ import annotations

from typing import Any

import pytest

from scones.workflow.asl import FakeClock, LambdaServiceError
from scones.workflow.asl.errors import error_matches

from .helpers import run

INVOKE = "arn:aws:states:::lambda:invoke"


class Flaky:
    """Fails ``times`` times with a service error, then returns ``ok``."""

    def __init__(self, times: int, error: str = "Lambda.ServiceException") -> None:
        self.times = times
        self.error = error
        self.calls = 0

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise LambdaServiceError(self.error, "try again")
        return "ok"


class FlakyInvoker:
    def __init__(self, flaky: Flaky) -> None:
        self.flaky = flaky

    def invoke(self, function_name: str, payload: Any, *, qualifier: str | None = None) -> Any:
        from scones.workflow.asl import LambdaInvokeResult

        return LambdaInvokeResult(payload=self.flaky(payload, None))


def task(**extra: Any) -> dict[str, Any]:
    """One Task calling function ``f`` (plus a ``Caught`` Pass state as the Catch target)."""
    states: dict[str, Any] = {"T": {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f"},
                                    "OutputPath": "$.Payload", "End": True, **extra}}
    if "Catch" in extra:
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"StartAt": "T", "States": states}


def execute(definition: dict[str, Any], flaky: Flaky, clock: FakeClock) -> Any:
    from scones.workflow.asl import run_execution

    return run_execution(definition, {"in": 1}, invoker=FlakyInvoker(flaky), clock=clock)


def test_retry_backoff_delays_go_through_the_clock() -> None:
    clock = FakeClock()
    flaky = Flaky(3)
    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]
    execution = execute(task(Retry=retry), flaky, clock)
    assert execution.output == "ok"
    assert flaky.calls == 4
    assert clock.sleeps == [2, 4, 8]


def test_retries_exhausted_then_the_error_propagates() -> None:
    flaky = Flaky(10)
    execution = execute(task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]), flaky, FakeClock())
    assert execution.error == "Lambda.ServiceException" and flaky.calls == 3


def test_max_attempts_zero_never_retries_and_max_delay_caps() -> None:
    flaky = Flaky(10)
    execute(task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]), flaky, FakeClock())
    assert flaky.calls == 1
    clock = FakeClock()
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 4, "BackoffRate": 10,
              "MaxDelaySeconds": 60}]
    execute(task(Retry=retry), Flaky(10), clock)
    assert clock.sleeps == [5, 50, 60, 60]


def test_full_jitter_stays_below_the_delay() -> None:
    clock = FakeClock()
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "MaxAttempts": 3, "JitterStrategy": "FULL"}]
    execute(task(Retry=retry), Flaky(10), clock)
    assert len(clock.sleeps) == 3 and all(0 <= s <= d for s, d in zip(clock.sleeps, [4, 8, 16], strict=True))


def test_catch_places_error_output_with_result_path() -> None:
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
    execution = execute(task(Catch=catch), Flaky(10), FakeClock())
    assert execution.output == {"in": 1, "error": {"Error": "Lambda.ServiceException", "Cause": "try again"}}


def test_retry_counting_is_per_retrier_across_the_visit() -> None:
    clock = FakeClock()
    retry = [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 1, "IntervalSeconds": 1},
             {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 3}]
    flaky = Flaky(10)
    execute(task(Retry=retry), flaky, clock)
    # the first retrier matches first; once exhausted the error propagates (no fall-through)
    assert flaky.calls == 2 and clock.sleeps == [1]


@pytest.mark.parametrize(("pattern", "error", "expected"), [
    ("States.ALL", "Anything", True),
    ("States.ALL", "States.Runtime", False),
    ("States.ALL", "States.DataLimitExceeded", False),
    ("States.DataLimitExceeded", "States.DataLimitExceeded", True),
    ("States.Runtime", "States.Runtime", False),
    ("States.TaskFailed", "Lambda.Unknown", True),
    ("States.TaskFailed", "States.Timeout", False),
    ("Custom", "Custom", True),
    ("Custom", "custom", False),
])
def test_error_name_matching(pattern: str, error: str, expected: bool) -> None:
    assert error_matches(pattern, error) is expected


def test_task_timeout_with_fake_clock() -> None:
    clock = FakeClock()

    def slow(event: Any, context: Any) -> Any:
        clock.sleep(5)
        return 1

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": INVOKE, "TimeoutSeconds": 2,
                                                   "Parameters": {"FunctionName": "slow"}, "End": True}}}
    execution = run(definition, {}, functions={"slow": slow}, clock=clock)
    assert execution.error == "States.Timeout"
    assert execution.events()[-2]["type"] == "TaskTimedOut"


def test_fail_state_error_and_cause_paths() -> None:
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e",
                                                   "CausePath": "States.Format('bad {}', $.n)"}}}
    execution = run(definition, {"e": "MyError", "n": 3})
    assert (execution.error, execution.cause) == ("MyError", "bad 3")


def test_oversized_lambda_result_is_data_limit_exceeded_and_not_caught_by_states_all() -> None:
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "big"}, "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "End": True}}}
    execution = run(definition, {}, functions={"big": lambda e, c: "x" * 300_000})
    assert execution.error == "States.DataLimitExceeded"
