"""``local_executions``: the API's executions are where the CLI looks for them, and the other way round."""

from __future__ import annotations

import json
from pathlib import Path

from scones.config import Settings
from scones.gateway.stepfunctions import local_executions
from scones.workflow.runs import history

from .conftest import PASS
from .server import ROLE


def test_an_execution_started_through_the_api_is_in_scones_workflow_history(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    executions = local_executions(settings)
    machine, _ = executions.create_state_machine("api-made", PASS, role_arn=ROLE)
    finished = executions.run("api-made", {"a": 1}, name="through-the-api")
    executions.close()
    for lookup in ("through-the-api", finished.execution_arn):
        kept = history(settings, lookup)
        assert (kept.status.value, kept.output) == ("SUCCEEDED", {"a": 1, "one": {"n": 1}})
    saved = settings.home / "state" / "state-machines" / "api-made.json"
    assert json.loads(saved.read_text())["stateMachineArn"] == machine.arn
    again = local_executions(settings)  # the next `scones up`
    assert again.state_machine("api-made").info.definition == PASS
    assert again.describe("through-the-api").status.value == "SUCCEEDED"
    again.close()
