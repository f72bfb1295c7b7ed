"""Executions: the one owner of every execution (start, run, describe, list, stop) and of its history.

``RunPlan`` is a definition read once; ``ExecutionService`` runs the executions of
registered state machines, synchronously or not; ``ExecutionRecords`` is the one
sink their histories go through. Front-ends (CLI, the Step Functions API, the
console) call these and nothing deeper.
"""

from scones.executions.plan import RunPlan
from scones.executions.records import ExecutionRecords, ExecutionSummary, Page
from scones.executions.service import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionService,
    StateMachine,
    StateMachineDoesNotExist,
)

__all__ = [
    "ExecutionAlreadyExists", "ExecutionDoesNotExist", "ExecutionRecords", "ExecutionService", "ExecutionSummary",
    "Page", "RunPlan", "StateMachine", "StateMachineDoesNotExist",
]
