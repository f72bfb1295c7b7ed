"""``scones workflow check``: run one execution and report every contract problem between its states."""

from __future__ import annotations

import json
from typing import Any

import click

from scones.cli.context import AppContext, pass_app
from scones.cli.pipeline_cmd import make_options, pipeline_options, resolve_prefix
from scones.workflow.runs import parse_input


@click.command("check")
@click.option("--definition", help="State machine definition file (default: the Scones state machine).")
@click.option("--input", "input_text", help="Execution input as JSON or @file (default: the first test image).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pipeline_options
@pass_app
def check(app: AppContext, definition: str | None, input_text: str | None, as_json: bool, **options: Any) -> None:
    """Run one real execution, then show each function's input and output shapes and every problem found."""
    from scones.errors import WorkflowError
    from scones.store import LocalStore
    from scones.workflow.check import run_check
    from scones.workflow.pipeline import image_keys, local_pipeline

    if input_text is None:
        store = LocalStore.in_bucket(app.settings.store_root, app.settings.bucket)
        execution_input: Any = {"s3_bucket": app.settings.bucket,
                                "s3_key": image_keys(store, resolve_prefix(app, "dataset/test/"), 1)[0]}
    else:
        execution_input = parse_input(input_text)
    with local_pipeline(app.settings, make_options(definition, **options)) as pipeline:
        report = run_check(pipeline, execution_input)
    click.echo(json.dumps(report.to_json()) if as_json else report.format_text())
    if not report.ok:
        raise WorkflowError(f"the contract check found {sum(1 for f in report.findings if f.severity.value == 'error')}"
                            " error(s)", hint="fix the states named above, then run the check again")
