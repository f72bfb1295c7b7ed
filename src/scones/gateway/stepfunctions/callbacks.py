"""The task token operations: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

The execution service holds the tokens of every execution it runs; these only pass
the answer on. Its refusals (``InvalidToken``, ``TaskTimedOut``, ``TaskDoesNotExist``,
``InvalidOutput``) come back as AWS words them (``errors.translate``).
"""

from __future__ import annotations

from typing import Any

from scones.executions.service import ExecutionService


class CallbackOperations:
    def __init__(self, executions: ExecutionService) -> None:
        self.executions = executions

    def send_task_success(self, params: dict[str, Any]) -> dict[str, Any]:
        self.executions.send_task_success(params["taskToken"], params["output"])
        return {}

    def send_task_failure(self, params: dict[str, Any]) -> dict[str, Any]:
        self.executions.send_task_failure(params["taskToken"], error=params.get("error"), cause=params.get("cause"))
        return {}

    def send_task_heartbeat(self, params: dict[str, Any]) -> dict[str, Any]:
        self.executions.send_task_heartbeat(params["taskToken"])
        return {}
