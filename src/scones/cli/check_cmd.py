"""``scones workflow check``: run one execution and report every contract problem between its states."""

from __future__ import annotations

import json
from typing import Any

import click

from scones.cli.context import AppContext, pass_app
from scones.cli.options import make_options, pipeline_options


@click.command("check")
@click.option("--definition", help="State machine definition file (default: the Scones state machine).")
@click.option("--input", "input_text", help="Execution input as JSON or @file (default: the first test image).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pipeline_options
@pass_app
def check(app: AppContext, definition: str | None, input_text: str | None, as_json: bool, **options: Any) -> None:
    """Run one real execution, then show each function's input and output shapes and every problem found."""
    from scones.errors import WorkflowError
    from scones.workflow.runs import check as run_check

    report = run_check(app.settings, make_options(definition, **options), input_text)
    click.echo(json.dumps(report.to_json()) if as_json else report.format_text())
    if not report.ok:
        raise WorkflowError(f"the contract check found {report.error_count} error(s)",
                            hint="fix the states named above, then run the check again")
