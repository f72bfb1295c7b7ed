"""Each state's outcome read from a history: succeeded, retried, caught, failed, aborted, running, not reached."""

from __future__ import annotations

from typing import Any

from scones.gateway.console.outcomes import Outcome, fail_states_of, read_history
from scones.workflow.asl.executor import run_execution

MACHINE: dict[str, Any] = {
    "StartAt": "M",
    "States": {
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
              "ItemProcessor": {"StartAt": "C", "States": {
                  "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "F"}],
                        "Default": "P"},
                  "F": {"Type": "Fail", "Error": "Big", "Cause": "too big"},
                  "P": {"Type": "Pass", "End": True}}},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Next": "Par"},
        "Caught": {"Type": "Pass", "Next": "Par"},
        "Par": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
    },
}


def test_map_iterations_choice_fail_catch_and_parallel() -> None:
    execution = run_execution(MACHINE, {"items": [0, 1, 2]})
    reading = read_history(execution.events(), running=False, fail_states=fail_states_of(MACHINE))
    outcome = {name: s.outcome for name, s in reading.states.items()}
    assert outcome == {"M": Outcome.CAUGHT, "C": Outcome.SUCCEEDED, "P": Outcome.SUCCEEDED, "F": Outcome.FAILED,
                       "Caught": Outcome.SUCCEEDED, "Par": Outcome.SUCCEEDED, "A": Outcome.SUCCEEDED,
                       "B": Outcome.SUCCEEDED}
    assert reading.states["C"].counts == {"succeeded": 3}
    map_run = reading.runs[reading.states["M"].runs[0]]
    assert [(i.index, i.status, i.last_state) for i in map_run.iterations] == \
        [(0, "succeeded", "P"), (1, "succeeded", "P"), (2, "failed", "F")]
    fail_run = reading.runs[reading.states["F"].runs[0]]
    assert (fail_run.failures[-1]["error"], fail_run.failures[-1]["cause"]) == ("Big", "too big")
    assert fail_run.iteration == ("M", 2)


def _event(id: int, prev: int, kind: str, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": id, "previousEventId": prev, "type": kind,
                             "timestamp": f"2025-01-01T00:00:0{id % 10}Z"}
    if details:
        event["taskEventDetails"] = details  # the reader takes any "...EventDetails" key
    return event


def test_a_task_that_succeeds_on_its_second_attempt_was_retried() -> None:
    events = [_event(1, 0, "ExecutionStarted"), _event(2, 1, "TaskStateEntered", name="T"),
              _event(3, 2, "TaskScheduled"), _event(4, 3, "TaskFailed", error="Boom", cause="first"),
              _event(5, 4, "TaskScheduled"), _event(6, 5, "TaskSucceeded"), _event(7, 6, "TaskStateExited", name="T"),
              _event(8, 7, "ExecutionSucceeded")]
    reading = read_history(events, running=False)
    run = reading.runs[0]
    assert (run.outcome, run.retries, run.failures[0]["error"]) == (Outcome.RETRIED, 1, "Boom")
    assert run.to_json()["durationMs"] == 5000.0


def test_a_failure_nothing_catches_fails_the_state_and_a_state_still_in_progress_runs() -> None:
    failed = [_event(1, 0, "ExecutionStarted"), _event(2, 1, "TaskStateEntered", name="T"),
              _event(3, 2, "TaskScheduled"), _event(4, 3, "TaskFailed", error="Boom", cause="c"),
              _event(5, 4, "ExecutionFailed", error="Boom", cause="c")]
    assert read_history(failed, running=False).states["T"].outcome is Outcome.FAILED
    running = failed[:3]
    assert read_history(running, running=True).states["T"].outcome is Outcome.RUNNING
    assert read_history(running, running=False).states["T"].outcome is Outcome.ABORTED
