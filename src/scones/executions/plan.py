"""A state machine definition read once: the runnable machine and what running it needs.

Everything that used to guess from the definition text (does it call Lambda? which
functions? does a Map write results?) asks the plan instead: one walk over the
validated document, made when the definition is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from scones.workflow.asl.parse import build_state_machine, load_definition
from scones.workflow.asl.program import StateMachine

#: Resources that run a Lambda function: the optimised integration and the SDK integration.
LAMBDA_INVOKE_RESOURCES: Final = frozenset({"arn:aws:states:::lambda:invoke",
                                            "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                            "arn:aws:states:::aws-sdk:lambda:invoke"})
_FUNCTION_ARN_MARK: Final = ":function:"


@dataclass(frozen=True)
class RunPlan:
    """A parsed, validated definition and the facts about it that the owner of its executions needs.

    Example
    -------
    >>> plan = RunPlan.from_definition({"StartAt": "T", "States": {"T": {"Type": "Task",
    ...     "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}, "End": True}}})
    >>> sorted(plan.functions), plan.calls_lambda
    (['f'], True)
    """

    document: Mapping[str, Any]
    machine: StateMachine
    #: Function name -> the first state (in definition order) that calls it.
    function_states: Mapping[str, str] = field(default_factory=dict)
    #: A Task names its function only at run time (``FunctionName.$``, a JSONata expression).
    calls_dynamic_function: bool = False
    #: Some Map state reads its items from S3 (``ItemReader``) or writes its results there.
    uses_objects: bool = False

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any] | str | bytes) -> RunPlan:
        """Parse (when text), validate and build; raises ``DefinitionError`` listing every problem."""
        document = load_definition(definition if isinstance(definition, (str, bytes)) else dict(definition))
        machine = build_state_machine(document)
        function_states: dict[str, str] = {}
        dynamic = objects = False
        for name, state in states_of(document):
            if "ResultWriter" in state or "ItemReader" in state:
                objects = True
            resource = state.get("Resource")
            if state.get("Type") != "Task" or not isinstance(resource, str):
                continue
            target = _function_target(resource, state)
            if target is None:
                continue
            if target:
                function_states.setdefault(function_name(target), name)
            else:
                dynamic = True
        return cls(document=document, machine=machine, function_states=function_states,
                   calls_dynamic_function=dynamic, uses_objects=objects)

    @property
    def functions(self) -> frozenset[str]:
        """The functions the definition names (by function name, whatever ARN form it uses)."""
        return frozenset(self.function_states)

    @property
    def calls_lambda(self) -> bool:
        return bool(self.function_states) or self.calls_dynamic_function


def function_name(target: str) -> str:
    """``name``, ``name:qualifier``, ``123456789012:function:name`` or a full ARN -> ``name``."""
    if _FUNCTION_ARN_MARK in target:
        target = target.split(_FUNCTION_ARN_MARK, 1)[1]
    return target.split(":", 1)[0]


def _function_target(resource: str, state: Mapping[str, Any]) -> str | None:
    """The function a Task calls: its name or ARN, ``""`` when only known at run time, None for no function."""
    if resource.startswith("arn:") and _FUNCTION_ARN_MARK in resource and ":lambda:" in resource:
        return resource
    if resource not in LAMBDA_INVOKE_RESOURCES:
        return None
    arguments = state.get("Parameters", state.get("Arguments"))
    if not isinstance(arguments, Mapping):
        return ""
    literal = arguments.get("FunctionName")
    if isinstance(literal, str) and not (literal.startswith("{%") and literal.endswith("%}")):
        return literal
    return ""


def states_of(machine: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every state of a machine, depth first: Parallel branches and Map processors included."""
    states = machine.get("States")
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        yield name, state
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield from states_of(state[key])
        branches = state.get("Branches")
        if isinstance(branches, list):
            for branch in branches:
                if isinstance(branch, Mapping):
                    yield from states_of(branch)
