"""The execution service as the map-run host: map runs remembered, Standard children kept like any execution."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.executions import ExecutionRecords, ExecutionService
from scones.executions.map_runs import MapRunDoesNotExist, MapRuns
from scones.store import LocalStore
from scones.workflow.asl.distributed.map_run import ExecutionType, MapRun, MapRunStatus
from scones.workflow.asl.distributed.objects import FolderObjects


def definition(execution_type: str) -> dict[str, object]:
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, "ItemsPath": "$.xs",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}}}


@pytest.mark.parametrize("execution_type", ["STANDARD", "EXPRESS"])
def test_children_of_a_map_run(tmp_path: Path, execution_type: str) -> None:
    records = ExecutionRecords(LocalStore(tmp_path / "executions"), index_path=tmp_path / "index.sqlite")
    with ExecutionService(records=records, objects=FolderObjects(tmp_path / "store")) as service:
        service.register("fan", definition(execution_type))
        parent = service.run("fan", {"xs": [1, 2, 3]}, name="parent")
        assert parent.output == [1, 2, 3]
        [run] = service.map_runs.of_execution(parent.execution_arn)
        assert run.status is MapRunStatus.SUCCEEDED and run.executions.succeeded == 3
        assert service.map_runs.describe(run.arn) is run
        service.flush()
        page = service.list(state_machine=run.state_machine_arn.split(":stateMachine:")[1])
        if execution_type == "EXPRESS":
            assert page.items == []  # Express children keep no record
            return
        assert len(page.items) == 3
        child = service.describe(page.items[0].execution_arn)
        assert child.state_machine_arn == run.state_machine_arn and child.status.value == "SUCCEEDED"
        assert [e["type"] for e in child.events()][-1] == "ExecutionSucceeded"
        # the parent's own listing holds the parent alone
        assert [s.name for s in service.list(state_machine="fan").items] == ["parent"]


def test_old_finished_map_runs_are_forgotten_first() -> None:
    runs = MapRuns(capacity=2)

    def started(label: str, status: MapRunStatus) -> MapRun:
        run = MapRun.create(state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
                            execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e", label=label,
                            execution_type=ExecutionType.EXPRESS, start_time=0.0, max_concurrency=0,
                            tolerated_failure_count=None, tolerated_failure_percentage=None)
        runs.map_run_started(run)
        if status is not MapRunStatus.RUNNING:
            run.end(status, 1.0)
        return run

    running = started("a", MapRunStatus.RUNNING)
    done = started("b", MapRunStatus.SUCCEEDED)
    newest = started("c", MapRunStatus.RUNNING)
    assert runs.describe(running.arn) is running and runs.describe(newest.arn) is newest
    with pytest.raises(MapRunDoesNotExist):
        runs.describe(done.arn)
