"""A local twin of AWS Step Functions: the Amazon States Language, JSONPath and JSONata modes.

Entry points
------------
``run_execution(definition, input, *, invoker=None, clock=None, store=None, name=None) -> Execution``
    Validate a definition (dict or JSON text), run it once and return the finished
    ``Execution`` (``status``, ``output``, ``error``, ``cause``, ``events()`` in
    GetExecutionHistory's shapes). ``invoker`` is a ``LambdaInvoker`` that Task states
    use for ``arn:aws:states:::lambda:invoke`` and Lambda function ARNs; ``clock``
    (``SystemClock`` by default, ``FakeClock`` in tests) drives Wait states and retry
    delays; ``store`` (a ``scones.store.Store``) receives ``<name>.json`` once the
    execution ends.
``validate_definition(definition) -> list[ValidationError]``
    Every problem AWS's ValidateStateMachineDefinition would report; empty when valid.
``Executor(definition, ...)``
    Parse once, run many times (concurrently, too: executions share no state).
    ``run(input, stop=...)`` takes a ``threading.Event`` (or a ``StopRequest`` carrying
    StopExecution's error/cause): setting it ends the execution as ABORTED at once, even
    inside a Wait. Standard-workflow quotas are enforced: 25,000 history events, 256 KiB
    per variable and per Assign, 10 MiB of variables per execution, 256 KiB payloads.

Example
-------
>>> from scones.workflow.asl import run_execution, CallableLambdaInvoker
>>> definition = {"StartAt": "Add", "States": {"Add": {"Type": "Task",
...     "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
...     "Parameters": {"FunctionName": "add", "Payload.$": "$"}, "End": True}}}
>>> invoker = CallableLambdaInvoker({"add": lambda event, context: event["a"] + event["b"]})
>>> run_execution(definition, {"a": 1, "b": 2}, invoker=invoker).output
3
"""

from __future__ import annotations

from typing import Any

from scones.lambda_runtime.contract import LambdaInvoker, LambdaInvokeResult, LambdaServiceError
from scones.workflow.asl.clock import Clock, FakeClock, SystemClock
from scones.workflow.asl.errors import DefinitionError, Failure, FailureError, StatesError, ValidationError
from scones.workflow.asl.executor import (
    Execution,
    ExecutionStatus,
    Executor,
    StopRequest,
    load_execution,
    run_execution,
    save_execution,
)
from scones.workflow.asl.lambda_integration import CallableLambdaInvoker
from scones.workflow.asl.parse import load_definition
from scones.workflow.asl.resources import ResourceResolver


def validate_definition(definition: dict[str, Any] | str | bytes,
                        resolver: ResourceResolver | None = None) -> list[ValidationError]:
    """All problems of ``definition`` (dict or JSON text); an empty list means it is valid."""
    from scones.workflow.asl.validate import validate_document

    try:
        doc = load_definition(definition)
    except DefinitionError as exc:
        return exc.errors
    return validate_document(doc, resolver)


__all__ = [
    "CallableLambdaInvoker", "Clock", "DefinitionError", "Execution", "ExecutionStatus", "Executor", "FakeClock",
    "Failure", "FailureError", "LambdaInvokeResult", "LambdaInvoker", "LambdaServiceError", "ResourceResolver",
    "StatesError", "StopRequest", "SystemClock", "ValidationError", "load_execution", "run_execution",
    "save_execution", "validate_definition",
]
