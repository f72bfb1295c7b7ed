"""``StepFunctionsService``: the Step Functions API of ``scones up``, on the execution service.

Construct it with the ``ExecutionService`` that owns the executions (built with its
``ExecutionRecords`` and a ``StateMachineRegistry``, so executions and state machines
outlive a restart; ``scones.executions.local.local_executions`` builds it where the CLI keeps them) and hand it
to the gateway for ``Service.STEP_FUNCTIONS``::

    executions = local_executions(settings, invoker=lambda_runtime)
    gateway = Gateway({Service.STEP_FUNCTIONS: StepFunctionsService(executions)})

A request is parsed by the JSON protocol (operation, members, constraints), answered
by one operation method, and written back by the protocol; every failure becomes
a Step Functions error body. Quick operations run on the event loop; the ones
that read or write files or render long histories run on a worker thread.

Shutdown (``scones up`` got SIGINT/SIGTERM, the server has stopped taking requests):
running executions get ``shutdown_grace`` seconds to end on their own; the rest end
ABORTED, with a cause saying the local service shut down; then every record is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from scones.errors import SconesError
from scones.executions.service import ExecutionService
from scones.gateway.model import service_model
from scones.gateway.protocols.json_protocol import JsonProtocol, ProtocolError
from scones.gateway.stepfunctions.callbacks import CallbackOperations
from scones.gateway.stepfunctions.errors import NotServed, ServiceUnavailable, translate
from scones.gateway.stepfunctions.executions import ExecutionOperations
from scones.gateway.stepfunctions.map_runs import MapRunOperations
from scones.gateway.stepfunctions.state_machines import StateMachineOperations

LOG = logging.getLogger(__name__)

#: Seconds running executions get to end on their own when ``scones up`` stops.
DEFAULT_SHUTDOWN_GRACE: Final = 2.0
#: Why executions still running at shutdown ended ABORTED.
SHUTDOWN_CAUSE: Final = "The local Step Functions service (scones up) shut down while the execution was running"

Operation = Callable[[dict[str, Any]], Any]


class StepFunctionsService:
    """AWS Step Functions (awsJson 1.0, ``X-Amz-Target: AWSStepFunctions.*``) over an ``ExecutionService``."""

    def __init__(self, executions: ExecutionService, *, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE) -> None:
        self.executions = executions
        self.shutdown_grace = shutdown_grace
        # "SensitiveData" (execution input) is limited in UTF-8 bytes and refused as InvalidExecutionInput.
        self.protocol = JsonProtocol(service_model("stepfunctions"), skip_length_checks=frozenset({"SensitiveData"}))
        machines = StateMachineOperations(executions)
        map_runs = MapRunOperations(executions)
        runs = ExecutionOperations(executions, map_runs.list_executions)
        callbacks = CallbackOperations(executions)
        #: Operation name -> (method, runs on a worker thread).
        self._operations: dict[str, tuple[Operation, bool]] = {
            "CreateStateMachine": (machines.create_state_machine, True),
            "DescribeStateMachine": (machines.describe_state_machine, False),
            "ListStateMachines": (machines.list_state_machines, False),
            "UpdateStateMachine": (machines.update_state_machine, True),
            "DeleteStateMachine": (machines.delete_state_machine, True),
            "DescribeStateMachineForExecution": (machines.describe_state_machine_for_execution, True),
            "StartExecution": (runs.start_execution, False),
            "StartSyncExecution": (runs.start_sync_execution, False),
            "DescribeExecution": (runs.describe_execution, False),
            "ListExecutions": (runs.list_executions, True),
            "GetExecutionHistory": (runs.get_execution_history, True),
            "StopExecution": (runs.stop_execution, False),
            "DescribeMapRun": (map_runs.describe_map_run, False),
            "ListMapRuns": (map_runs.list_map_runs, False),
            "UpdateMapRun": (map_runs.update_map_run, False),
            "ValidateStateMachineDefinition": (machines.validate_state_machine_definition, True),
            "ListTagsForResource": (machines.list_tags_for_resource, False),
            "TagResource": (machines.tag_resource, True),
            "UntagResource": (machines.untag_resource, True),
            "SendTaskSuccess": (callbacks.send_task_success, False),
            "SendTaskFailure": (callbacks.send_task_failure, False),
            "SendTaskHeartbeat": (callbacks.send_task_heartbeat, False),
        }
        self._closing = False

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        subject = ""
        try:
            operation = self.protocol.operation(request.headers.get("x-amz-target"))
            params = self.protocol.parse(operation, body)
            subject = str(params.get("executionArn") or params.get("stateMachineArn") or params.get("name") or "")
            output = await self._call(operation.name, params)
        except ProtocolError as exc:  # the protocol's refusals, and every SfnError
            return self.protocol.error(exc.code, exc.message, status=exc.status, fields=exc.fields)
        except SconesError as exc:
            error = translate(exc, subject)
            if error is None:
                raise
            return self.protocol.error(error.code, error.message, status=error.status, fields=error.fields)
        return self.protocol.response(operation, output)

    async def _call(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        if self._closing:
            raise ServiceUnavailable("The local Step Functions service is shutting down")
        found = self._operations.get(name)
        if found is None:
            raise NotServed(f"AWSStepFunctions.{name} is not served by this local endpoint")
        method, threaded = found
        if threaded:
            result = await asyncio.to_thread(method, params)
        else:
            result = method(params)
        if isinstance(result, Awaitable):
            result = await result
        return dict(result)

    async def startup(self) -> None:
        LOG.info("Step Functions: %d state machine(s)", len(self.executions.state_machines()))

    async def shutdown(self) -> None:
        """Stop taking requests; give running executions ``shutdown_grace`` seconds, abort the rest, and
        write every record."""
        self._closing = True
        running = len(self.executions.running())
        if running:
            LOG.info("Step Functions: %d execution(s) still running; %.1f s to end before they are aborted",
                     running, self.shutdown_grace)
        await asyncio.to_thread(self.executions.close, grace_seconds=self.shutdown_grace, cause=SHUTDOWN_CAUSE)
