"""What happened to each state of an execution, read from its history (GetExecutionHistory's events).

Events are linked by ``previousEventId``: every event after a ``...StateEntered`` points back
along the chain to it, whatever the other threads of a Map or Parallel recorded meanwhile. So
one pass over the events in id order tells each event's *run* (one entry into one state) and
its Map iteration, and from the runs:

- ``succeeded``: the state exited without a failure left standing;
- ``retried``: it exited, after at least one failed attempt that a Retry took over;
- ``caught``: its last attempt failed and the execution went on from it (a Catch);
- ``failed``: its last attempt failed and nothing went on from it (or it is a Fail state);
- ``aborted``: the execution ended (stopped, timed out) while it ran;
- ``running``: entered, and the execution is still running.

A state with no run was ``not reached``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Final


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    RETRIED = "retried"
    CAUGHT = "caught"
    FAILED = "failed"
    ABORTED = "aborted"
    RUNNING = "running"
    NOT_REACHED = "not reached"


#: When a state ran several times (a Map's item processor, a loop), the one its node shows.
SEVERITY: Final = (Outcome.RUNNING, Outcome.FAILED, Outcome.ABORTED, Outcome.CAUGHT, Outcome.RETRIED,
                   Outcome.SUCCEEDED)

_FAILURES: Final = frozenset({"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
                              "LambdaFunctionStartFailed", "TaskSubmitFailed", "TaskStartFailed", "MapStateFailed",
                              "ParallelStateFailed", "EvaluationFailed", "MapStateAborted", "ParallelStateAborted"})
_SUCCESSES: Final = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded", "MapStateSucceeded",
                               "ParallelStateSucceeded"})
_ATTEMPTS: Final = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
_CHILD_STARTS: Final = frozenset({"MapIterationStarted", "ParallelStateStarted"})
_ITERATION_ENDS: Final = {"MapIterationSucceeded": "succeeded", "MapIterationFailed": "failed",
                          "MapIterationAborted": "aborted"}
_EXECUTION_ENDS: Final = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted",
                                    "ExecutionTimedOut"})


@dataclass
class Iteration:
    """One item of a Map state: its index, how it ended, and the state it ended in."""

    map_state: str
    index: int
    status: str = "running"
    first_event: int = 0
    input_event: int | None = None  # the first state's StateEntered: the item's input
    last_state: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, "inputEventId": self.input_event,
                "lastState": self.last_state}


@dataclass
class Run:
    """One entry into one state."""

    state: str
    type: str
    entered_event: int
    started: float
    iteration: tuple[str, int] | None
    exited_event: int | None = None
    ended: float | None = None
    attempts: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    failed_last: bool = False
    went_on: bool = False
    outcome: Outcome = Outcome.RUNNING
    iterations: list[Iteration] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    def to_json(self) -> dict[str, Any]:
        last = self.failures[-1] if self.failures else {}
        return {"state": self.state, "type": self.type, "outcome": self.outcome.value,
                "enteredEventId": self.entered_event, "exitedEventId": self.exited_event,
                "durationMs": None if self.ended is None else round((self.ended - self.started) * 1000, 3),
                "retries": self.retries, "failures": self.failures, "error": last.get("error"),
                "cause": last.get("cause"),
                "iteration": None if self.iteration is None else {"map": self.iteration[0],
                                                                  "index": self.iteration[1]},
                "iterations": [i.to_json() for i in self.iterations] if self.type == "MapState" else None}


@dataclass
class StateSummary:
    """Every run of one state, and the outcome its node shows."""

    outcome: Outcome
    runs: list[int]  # indexes into the run list
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "runs": self.runs, "counts": self.counts}


@dataclass
class Reading:
    runs: list[Run]
    states: dict[str, StateSummary]


def timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_history(events: Sequence[Mapping[str, Any]], *, running: bool,
                 fail_states: Mapping[str, tuple[str | None, str | None]] | None = None) -> Reading:
    """The runs of ``events`` (in id order) and each state's outcome. ``running``: the execution has not
    ended. ``fail_states``: the Error and Cause of each Fail state (their runs record none)."""
    run_of: dict[int, Run] = {}
    iteration_of: dict[int, tuple[str, int]] = {}
    iterations: dict[tuple[str, int], Iteration] = {}
    runs: list[Run] = []
    types: dict[int, str] = {}
    execution_end: Mapping[str, Any] | None = None
    for event in events:
        event_id = int(event["id"])
        kind = str(event["type"])
        prev = int(event.get("previousEventId") or 0)
        types[event_id] = kind
        parent = run_of.get(prev)
        where = iteration_of.get(prev)
        details = event_details(event)
        if kind == "MapIterationStarted":
            where = (str(details.get("name", "")), int(details.get("index", 0)))
            item = Iteration(where[0], where[1], first_event=event_id)
            iterations[where] = item
            if parent is not None:
                parent.iterations.append(item)
        elif kind.endswith("StateEntered"):
            run = Run(str(details.get("name", "")), kind[:-len("Entered")], event_id, timestamp(event["timestamp"]),
                      where)
            runs.append(run)
            if parent is not None and types.get(prev) not in _CHILD_STARTS:
                parent.went_on = True
            if where is not None and where in iterations:
                item = iterations[where]
                item.last_state = run.state
                if item.input_event is None:
                    item.input_event = event_id
            run_of[event_id] = run
            if where is not None:
                iteration_of[event_id] = where
            continue
        elif kind in _ITERATION_ENDS:
            found = iterations.get((str(details.get("name", "")), int(details.get("index", -1))))
            if found is not None:
                found.status = _ITERATION_ENDS[kind]
            continue  # the map's run goes on from MapStateStarted, not from here
        elif kind in _EXECUTION_ENDS:
            execution_end = {"type": kind, "details": details, "previous": parent}
            continue
        if where is not None:
            iteration_of[event_id] = where
        if parent is None:
            continue
        run_of[event_id] = parent
        at = timestamp(event["timestamp"])
        if kind.endswith("StateExited"):
            parent.exited_event = event_id
            parent.ended = at
        elif kind in _ATTEMPTS:
            parent.attempts += 1
            parent.failed_last = False
        elif kind in _FAILURES:
            parent.failures.append({"eventId": event_id, "type": kind, "error": details.get("error"),
                                    "cause": details.get("cause")})
            parent.failed_last = True
            parent.ended = at
        elif kind in _SUCCESSES:
            parent.failed_last = False
    _settle(runs, running=running, execution_end=execution_end, fail_states=fail_states or {})
    return Reading(runs, _summaries(runs))


def _settle(runs: list[Run], *, running: bool, execution_end: Mapping[str, Any] | None,
            fail_states: Mapping[str, tuple[str | None, str | None]]) -> None:
    for run in runs:
        if run.type == "FailState":
            run.outcome = Outcome.FAILED
            error, cause = fail_states.get(run.state, (None, None))
            if execution_end is not None and execution_end["previous"] is run:
                error = execution_end["details"].get("error", error)
                cause = execution_end["details"].get("cause", cause)
            run.failures.append({"eventId": run.entered_event, "type": "FailStateEntered", "error": error,
                                 "cause": cause})
            run.ended = run.started
        elif run.failed_last:
            run.outcome = Outcome.CAUGHT if run.went_on else Outcome.FAILED
        elif run.exited_event is not None:
            run.outcome = Outcome.RETRIED if run.failures else Outcome.SUCCEEDED
        elif running:
            run.outcome = Outcome.RUNNING
        else:
            run.outcome = Outcome.ABORTED
            if execution_end is not None and execution_end["type"] == "ExecutionFailed":
                # A failure raised from inside it (States.Runtime, a branch failing) ended the execution.
                run.outcome = Outcome.FAILED
                run.failures.append({"eventId": None, "type": "ExecutionFailed",
                                     "error": execution_end["details"].get("error"),
                                     "cause": execution_end["details"].get("cause")})
        if run.outcome is Outcome.RUNNING:
            continue
        for item in run.iterations:
            if item.status == "running":
                item.status = "aborted"


def _summaries(runs: list[Run]) -> dict[str, StateSummary]:
    out: dict[str, StateSummary] = {}
    for i, run in enumerate(runs):
        summary = out.get(run.state)
        if summary is None:
            summary = out[run.state] = StateSummary(run.outcome, [], {})
        summary.runs.append(i)
        summary.counts[run.outcome.value] = summary.counts.get(run.outcome.value, 0) + 1
        if SEVERITY.index(run.outcome) < SEVERITY.index(summary.outcome):
            summary.outcome = run.outcome
    return out


def event_details(event: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The event's ``…EventDetails`` member (every event type names its own), or an empty mapping."""
    for key, value in (event or {}).items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def fail_states_of(definition: Mapping[str, Any] | str) -> dict[str, tuple[str | None, str | None]]:
    """Every Fail state's static Error and Cause, nested ones included."""
    document = json.loads(definition) if isinstance(definition, str) else definition
    found: dict[str, tuple[str | None, str | None]] = {}

    def walk(machine: Any) -> None:
        if not isinstance(machine, Mapping) or not isinstance(machine.get("States"), Mapping):
            return
        for name, state in machine["States"].items():
            if not isinstance(state, Mapping):
                continue
            if state.get("Type") == "Fail":
                error, cause = state.get("Error"), state.get("Cause")
                found[name] = (error if isinstance(error, str) else None, cause if isinstance(cause, str) else None)
            walk(state.get("ItemProcessor") or state.get("Iterator"))
            for branch in state.get("Branches") or []:
                walk(branch)

    walk(document)
    return found
