"""The map run operations: DescribeMapRun, ListMapRuns, UpdateMapRun, and ListExecutions of a map run.

Map runs are the execution service's (``ExecutionService.map_runs``): a Distributed
Map registers its run there when it starts. ``ListExecutions`` with a ``mapRunArn``
lists the run's Standard children, which are kept like any execution; Express
children keep no record, as on AWS outside CloudWatch.
"""

from __future__ import annotations

from typing import Any, Final

from scones.executions.map_runs import MapRunDoesNotExist
from scones.executions.records import ExecutionSummary
from scones.executions.service import ExecutionService
from scones.gateway.stepfunctions import arns, shapes, tokens
from scones.gateway.stepfunctions.errors import InvalidArn, ResourceNotFound, ValidationException
from scones.gateway.stepfunctions.executions import find_execution
from scones.workflow.asl.distributed.map_run import MapRun
from scones.workflow.asl.executor import ExecutionStatus

_MAP_RUNS: Final = "map-runs"
#: Executions read at a time while looking for a map run's children.
_CHILDREN_PAGE: Final = 10_000
MAP_RUN: Final = "mapRun"


class MapRunOperations:
    def __init__(self, executions: ExecutionService) -> None:
        self.executions = executions

    def describe_map_run(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._run(params["mapRunArn"]).describe()

    def list_map_runs(self, params: dict[str, Any]) -> dict[str, Any]:
        """The map runs an execution started, newest first (ExecutionDoesNotExist for an unknown execution)."""
        execution = find_execution(self.executions, params["executionArn"])
        runs = self.executions.map_runs.of_execution(execution.execution_arn)
        start = tokens.offset(params.get("nextToken"), _MAP_RUNS, len(runs))
        end = start + tokens.page_size(params.get("maxResults"))
        return {"mapRuns": [r.list_item() for r in runs[start:end]],
                "nextToken": tokens.encode(_MAP_RUNS, end) if end < len(runs) else None}

    def update_map_run(self, params: dict[str, Any]) -> dict[str, Any]:
        """New tolerated failures (in force at once) or MaxConcurrency (recorded; see ``MapRun.update``)."""
        if all(params.get(k) is None for k in ("maxConcurrency", "toleratedFailureCount",
                                                "toleratedFailurePercentage")):
            raise ValidationException("Must provide at least one of maxConcurrency, toleratedFailureCount or "
                                      "toleratedFailurePercentage", reason="MISSING_REQUIRED_PARAMETER")
        percentage = params.get("toleratedFailurePercentage")
        if percentage is not None and not 0 <= percentage <= 100:
            raise ValidationException("toleratedFailurePercentage must be between 0 and 100")
        self._run(params["mapRunArn"]).update(max_concurrency=params.get("maxConcurrency"),
                                              tolerated_failure_count=params.get("toleratedFailureCount"),
                                              tolerated_failure_percentage=percentage)
        return {}

    def list_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListExecutions(mapRunArn): the run's Standard children (kept under its children's state machine)."""
        run = self._run(params["mapRunArn"])
        status = params.get("statusFilter")
        if (status is not None and status not in ExecutionStatus.__members__) \
                or params.get("redriveFilter") == "REDRIVEN":
            return {"executions": []}  # PENDING_REDRIVE or redriven: no local execution is (redrive is not served)
        children = self._children(run, ExecutionStatus(status) if status is not None else None)
        start = tokens.offset(params.get("nextToken"), _MAP_RUNS, len(children))
        end = start + tokens.page_size(params.get("maxResults"))
        items = []
        for summary in children[start:end]:
            item = shapes.execution_item(summary)
            item["mapRunArn"] = run.arn
            items.append(item)
        return {"executions": items, "nextToken": tokens.encode(_MAP_RUNS, end) if end < len(children) else None}

    def _children(self, run: MapRun, status: ExecutionStatus | None) -> list[ExecutionSummary]:
        """The executions of the run's children's state machine started while it ran, newest first.

        Read page by page until a page reaches back before the run's start: later runs of the same
        state (same label) add executions in front of these, so no fixed number of newest ones is enough.
        """
        machine = run.state_machine_arn.split(":stateMachine:", 1)[1]
        children: list[ExecutionSummary] = []
        token: str | None = None
        while True:
            page = self.executions.list(state_machine=machine, status=status, limit=_CHILDREN_PAGE, next_token=token)
            for summary in page.items:
                if summary.start_time < run.start_time:
                    return children
                if run.stop_time is None or summary.start_time <= run.stop_time:
                    children.append(summary)
            if page.next_token is None:
                return children
            token = page.next_token

    def _run(self, arn: str) -> MapRun:
        if arns.parse(arn).resource_type != MAP_RUN:
            raise InvalidArn.resource_type(arns.parse(arn).resource_type)
        try:
            return self.executions.map_runs.describe(arn)
        except MapRunDoesNotExist as exc:
            raise ResourceNotFound(f"Resource not found: '{arn}'") from exc
