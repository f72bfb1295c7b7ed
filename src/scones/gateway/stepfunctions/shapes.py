"""The Step Functions output members built from scones' records, one function per AWS shape.

Values stay Python values here (timestamps as epoch seconds, JSON documents as
JSON text where AWS sends text); the JSON protocol writes them out.
"""

from __future__ import annotations

import math
from typing import Any, Final

from scones.executions.machines import MachineInfo, Revision
from scones.executions.records import ExecutionSummary
from scones.workflow.asl.executor import Execution, ExecutionStatus
from scones.workflow.asl.jsontext import to_compact_json

#: What an Express execution is billed at (recorded StartSyncExecution answers): 64 MB, in 100 ms steps.
BILLED_MEMORY_MB: Final = 64
BILLING_STEP_MS: Final = 100

#: History detail members that carry execution data (left out when ``includeExecutionData`` is false).
_EXECUTION_DATA: Final = frozenset({"input", "inputDetails", "output", "outputDetails"})


def describe_execution(execution: Execution) -> dict[str, Any]:
    """DescribeExecution: ``output`` only when SUCCEEDED, ``error``/``cause`` when the execution failed."""
    out: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": execution.status.value,
        "startDate": execution.start_time,
        "stopDate": execution.stop_time,
        "input": to_compact_json(execution.input),
        "inputDetails": {"included": True},
        "error": execution.error,
        "cause": execution.cause,
        "redriveCount": 0,
    }
    if execution.status is ExecutionStatus.SUCCEEDED:
        out["output"] = to_compact_json(execution.output)
        out["outputDetails"] = {"included": True}
    out.update(_redrive(execution.status))
    return out


def _redrive(status: ExecutionStatus) -> dict[str, str]:
    """AWS's words for a running or succeeded execution; failed ones cannot be redriven here either,
    because RedriveExecution is not served locally."""
    if status in (ExecutionStatus.RUNNING, ExecutionStatus.SUCCEEDED):
        reason = f"Execution is {status.value} and cannot be redriven"
    else:
        reason = "Redrive is not available on this local endpoint"
    return {"redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": reason}


def start_sync_execution(execution: Execution) -> dict[str, Any]:
    """StartSyncExecution: the outcome, and what AWS would bill for it."""
    # SyncExecutionStatus has no ABORTED: an Express execution stopped by the service's shutdown failed.
    status = execution.status if execution.status is not ExecutionStatus.ABORTED else ExecutionStatus.FAILED
    stop = execution.stop_time if execution.stop_time is not None else execution.start_time
    millis = max(0.0, (stop - execution.start_time) * 1000)
    out: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "startDate": execution.start_time,
        "stopDate": stop,
        "status": status.value,
        "error": execution.error,
        "cause": execution.cause,
        "input": to_compact_json(execution.input),
        "inputDetails": {"included": True},
        "billingDetails": {"billedMemoryUsedInMB": BILLED_MEMORY_MB,
                           "billedDurationInMilliseconds": max(1, math.ceil(millis / BILLING_STEP_MS))
                           * BILLING_STEP_MS},
    }
    if status is ExecutionStatus.SUCCEEDED:
        out["output"] = to_compact_json(execution.output)
        out["outputDetails"] = {"included": True}
    return out


def execution_item(summary: ExecutionSummary) -> dict[str, Any]:
    """One ``ExecutionListItem``."""
    return {"executionArn": summary.execution_arn, "stateMachineArn": summary.state_machine_arn,
            "name": summary.name, "status": summary.status.value, "startDate": summary.start_time,
            "stopDate": summary.stop_time, "redriveCount": 0}


def describe_state_machine(info: MachineInfo) -> dict[str, Any]:
    current = info.current
    return {
        "stateMachineArn": info.arn,
        "name": info.name,
        "status": info.status.value,
        "definition": current.definition,
        "roleArn": current.role_arn,
        "type": info.type.value,
        "creationDate": info.creation_date,
        "loggingConfiguration": dict(current.logging),
        "tracingConfiguration": dict(current.tracing),
        "revisionId": current.revision_id,
    }


def state_machine_item(info: MachineInfo) -> dict[str, Any]:
    """One ``StateMachineListItem``."""
    return {"stateMachineArn": info.arn, "name": info.name, "type": info.type.value,
            "creationDate": info.creation_date}


def state_machine_for_execution(info: MachineInfo, revision: Revision) -> dict[str, Any]:
    return {
        "stateMachineArn": info.arn,
        "name": info.name,
        "definition": revision.definition,
        "roleArn": revision.role_arn,
        "updateDate": revision.date,
        "loggingConfiguration": dict(revision.logging),
        "tracingConfiguration": dict(revision.tracing),
        "revisionId": revision.revision_id,
    }


def history_event(event: dict[str, Any], include_data: bool) -> dict[str, Any]:
    """A recorded event (GetExecutionHistory's shape already) without its data when asked so."""
    if include_data:
        return event
    out = {}
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _EXECUTION_DATA}
        out[key] = value
    return out
