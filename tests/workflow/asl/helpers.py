"""Small builders shared by the ASL tests."""

from __future__ import annotations

from typing import Any

from scones.workflow.asl import CallableLambdaInvoker, Execution, FakeClock, run_execution


def one_state(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A machine with a single state named ``S`` (``End`` added where the type needs it)."""
    state = dict(state)
    if state["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in state:
        state.setdefault("End", True)
    return {"StartAt": "S", "States": {"S": state}, **top}


def run(definition: dict[str, Any], data: Any = None, *, functions: dict[str, Any] | None = None,
        clock: FakeClock | None = None, **kwargs: Any) -> Execution:
    invoker = CallableLambdaInvoker(functions or {})
    return run_execution(definition, data, invoker=invoker, clock=clock or FakeClock(), **kwargs)
