"""The workflow's state machine definitions, made ready for one deployment.

The same ``scones/workflow/definitions/*.asl.json`` files run locally and on
Step Functions. For AWS two things change, both here and nowhere else:

- every Lambda ``FunctionName`` (or direct Lambda ``Resource``) points at this
  deployment's function, keeping any qualifier such as ``:$LATEST``;
- every way the execution can fail first publishes to the deployment's SNS topic:
  transitions into a ``Fail`` state go through a publishing Task, and Task, Map
  and Parallel states without a ``States.ALL`` catcher get one that publishes and
  then fails as ``scones.WorkflowFailed`` whose cause starts with the original error name.
  The message is a ``FailureNotification`` (``scones.workflow.notifications``), the
  same shape the local backend publishes.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

from scones.aws.naming import FUNCTIONS
from scones.errors import WorkflowError

LAMBDA_INVOKE: Final = re.compile(r"^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$")
LAMBDA_ARN: Final = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:(?P<name>[^:]+)(?P<qual>:[^:]+)?$")
SNS_PUBLISH: Final = "arn:aws:states:::sns:publish"
PUBLISH_STATE: Final = "Publish failure"
DESCRIBE_STATE: Final = "Describe failure"
FAILED_STATE: Final = "Failed"
FAILED_ERROR: Final = "scones.WorkflowFailed"

Definition = dict[str, Any]


def load_definition(stem: str) -> Definition:
    """Read ``scones/workflow/definitions/<stem>.asl.json`` from the installed package."""
    try:
        # Read through the top package so the workflow engine itself is not imported.
        text = resources.files("scones").joinpath("workflow", "definitions", f"{stem}.asl.json").read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise WorkflowError(f"The workflow definition {stem}.asl.json is not installed",
                            hint="reinstall scones; the definitions ship in scones/workflow/definitions/") from exc
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowError(f"{stem}.asl.json is not valid JSON: {exc}") from exc
    if not isinstance(definition, dict) or "States" not in definition:
        raise WorkflowError(f"{stem}.asl.json has no 'States'")
    return definition


def _split_function(value: str) -> tuple[str, str]:
    """``arn:...:function:name:qual`` / ``name:qual`` / ``name`` -> (name, ":qual" or "")."""
    match = LAMBDA_ARN.match(value)
    if match:
        return match["name"], match["qual"] or ""
    if value.startswith("arn:") or "function:" in value:
        raise WorkflowError(f"Cannot read the function name in {value!r}")
    name, sep, qual = value.partition(":")
    return name, f"{sep}{qual}"


def _target(value: str, arns: Mapping[str, str]) -> str:
    name, qualifier = _split_function(value)
    if name not in arns:
        raise WorkflowError(f"The definition invokes function {name!r}, which scones does not deploy",
                            hint=f"use one of {', '.join(FUNCTIONS)}")
    return arns[name] + qualifier


def _all_states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, including those nested in Map iterators and Parallel branches."""
    for state in states.values():
        yield state
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _all_states(state[key].get("States", {}))
        for branch in state.get("Branches", []) or []:
            yield from _all_states(branch.get("States", {}))


def substitute_functions(definition: Definition, arns: Mapping[str, str]) -> Definition:
    """A copy of ``definition`` whose Lambda tasks call ``arns[<function name>]``."""
    out = copy.deepcopy(definition)
    for state in _all_states(out.get("States", {})):
        if state.get("Type") != "Task":
            continue
        resource = str(state.get("Resource", ""))
        params = state.get("Parameters")
        if LAMBDA_INVOKE.match(resource) and isinstance(params, dict) and "FunctionName" in params:
            params["FunctionName"] = _target(str(params["FunctionName"]), arns)
        elif LAMBDA_ARN.match(resource):
            state["Resource"] = _target(resource, arns)
    return out


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    taken.add(candidate)
    return candidate


def _notification(fail: dict[str, Any], result_path: str | None) -> dict[str, Any]:
    """Parameters of the Pass state that describes a failure for subscribers.

    The fields are those of ``scones.workflow.notifications.FailureNotification``, which
    the local backend publishes, so one reader serves both backends (``s3_bucket`` and
    ``s3_key`` travel inside ``input``: a missing path here would fail the failure path).
    A catcher's error sits at its ``ResultPath`` (``$`` by default); a Choice or ``Next``
    into a Fail state carries no error object, so that Fail state's own words are used.
    """
    params: dict[str, Any] = {"execution_name.$": "$$.Execution.Name", "execution_arn.$": "$$.Execution.Id",
                              "status": "FAILED"}
    if result_path is not None:
        params.update({"error.$": f"{result_path}.Error", "cause.$": f"{result_path}.Cause"})
    else:
        params.update({"error": fail.get("Error"), "cause": fail.get("Cause")})
    params.update({"time.$": "$$.State.EnteredTime", "input.$": "States.JsonToString($$.Execution.Input)"})
    return params


def _publish_task(topic_arn: str, subject: str, next_state: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": SNS_PUBLISH,
        "Parameters": {"TopicArn": topic_arn, "Subject": subject, "Message.$": "States.JsonToString($)",
                       "MessageAttributes": {"execution": {"DataType": "String",
                                                           "StringValue.$": "$$.Execution.Id"}}},
        # Keep the state data as it was for the Fail state after us.
        "ResultPath": None,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2}],
        "Next": next_state,
    }


@dataclass
class _Publishers:
    """Describe (Pass) and publish (Task) states in front of each Fail state, created on first use."""

    states: dict[str, Any]
    topic_arn: str
    subject: str
    taken: set[str]
    #: The definition's own Fail states that read the state data (ErrorPath/CausePath).
    reading: frozenset[str] = frozenset()
    publishers: dict[str, str] = field(default_factory=dict)
    describers: dict[tuple[str, str | None], str] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)

    def _publisher(self, fail: str) -> str:
        if fail not in self.publishers:
            name = _unique(f"{PUBLISH_STATE} ({fail})"[:78], self.taken)
            self.publishers[fail] = name
            self.new[name] = _publish_task(self.topic_arn, self.subject, fail)
        return self.publishers[fail]

    def via(self, fail: str, result_path: str | None) -> str:
        """The state a route into ``fail`` should go to instead."""
        target = self.states[fail]
        if fail in self.reading:
            return self._publisher(fail)  # that Fail state reads the state data: publish it unchanged
        key = (fail, result_path)
        if key not in self.describers:
            name = _unique(f"{DESCRIBE_STATE} ({fail})"[:78], self.taken)
            self.describers[key] = name
            self.new[name] = {"Type": "Pass", "Parameters": _notification(target, result_path),
                              "Next": self._publisher(fail)}
        return self.describers[key]


def add_failure_notifications(definition: Definition, topic_arn: str, machine: str) -> Definition:
    """A copy of ``definition`` in which every failure is published to ``topic_arn`` before the run fails."""
    out = copy.deepcopy(definition)
    states: dict[str, Any] = out["States"]
    taken = set(states)
    fails = {name for name, s in states.items() if s.get("Type") == "Fail"}
    reading = frozenset(n for n in fails if "ErrorPath" in states[n] or "CausePath" in states[n])
    publishers = _Publishers(states, topic_arn, f"scones: {machine} failed"[:100], taken, reading)
    uncaught = [s for s in states.values() if s.get("Type") in ("Task", "Map", "Parallel")
                and not any("States.ALL" in c.get("ErrorEquals", []) for c in s.get("Catch", []) or [])]
    for state in list(states.values()):
        if state.get("Next") in fails:
            state["Next"] = publishers.via(state["Next"], None)
        if state.get("Default") in fails:
            state["Default"] = publishers.via(state["Default"], None)
        for choice in state.get("Choices", []) or []:
            if choice.get("Next") in fails:
                choice["Next"] = publishers.via(choice["Next"], None)
        for catcher in state.get("Catch", []) or []:
            if catcher.get("Next") in fails:
                catcher["Next"] = publishers.via(catcher["Next"], catcher.get("ResultPath", "$"))
    if out.get("StartAt") in fails:
        out["StartAt"] = publishers.via(out["StartAt"], None)
    if uncaught:
        failed = _unique(FAILED_STATE, taken)
        # A Fail state may not raise a "States." name again (AWS answers States.Runtime), so the
        # error gets one fixed name and the cause starts with the original error name.
        states[failed] = {"Type": "Fail", "Error": FAILED_ERROR,
                          "CausePath": "States.Format('{}: {}', $.error, $.cause)"}
        describe = publishers.via(failed, "$")
        for state in uncaught:
            state.setdefault("Catch", []).append({"ErrorEquals": ["States.ALL"], "Next": describe})
    states.update(publishers.new)
    return out


def prepare(definition: Definition, *, function_arns: Mapping[str, str], topic_arn: str,
            machine: str) -> Definition:
    """What ``scones deploy aws`` sends to Step Functions for one definition."""
    return add_failure_notifications(substitute_functions(definition, function_arns), topic_arn, machine)
