"""``scones workflow run-batch``: classify every image below a prefix, one execution each."""

from __future__ import annotations

import json
from typing import Any

import click

from scones.cli.context import AppContext, pass_app
from scones.cli.options import backend_options, make_options, pipeline_options
from scones.errors import UsageError


@click.command("run-batch")
@click.option("--prefix", help="Run one execution per image below this key [default: dataset/test/; "
                               "with --backend aws: DEPLOYMENT/dataset/test/].")
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256))
@click.option("--limit", type=click.IntRange(1), help="Only the first K images.")
@click.option("--no-history", is_flag=True,
              help="Do not keep each execution's history under executions/ (faster; no 'workflow history').")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--input", "input_text", help="With --backend aws: the batch machine's input "
                                            '{"s3_bucket": ..., "keys": [...]} (JSON text or @FILE).')
@click.option("--bucket", help="With --backend aws: classify every image below s3://BUCKET/PREFIX.")
@pipeline_options
@backend_options
@pass_app
def run_batch(app: AppContext, prefix: str | None, concurrency: int, limit: int | None, no_history: bool,
              as_json: bool, input_text: str | None, bucket: str | None, backend: str, region: str | None,
              profile: str | None, deployment: str, **options: Any) -> None:
    """Classify every image below PREFIX, one execution each, and summarise the outcomes.

    With --backend aws, one execution of the deployed batch state machine (a Map over the
    images) runs on Step Functions instead, and its result is printed.
    """
    if backend == "aws":
        from scones.cli.aws_backend import (
            batch_input_from_s3,
            print_result,
            reject_local_options,
            run_on_step_functions,
        )
        from scones.workflow.runs import parse_input

        reject_local_options()
        if input_text and (bucket or prefix or limit):
            raise UsageError("--input gives the batch's images itself; --bucket, --prefix and --limit would be ignored")
        # deploy aws uploads the dataset under the deployment's own prefix
        execution_input = (parse_input(input_text) if input_text
                           else batch_input_from_s3(bucket, prefix or f"{deployment}/dataset/test/", limit,
                                                    region=region, profile=profile))
        print_result(run_on_step_functions(app, execution_input, batch=True, name=None, region=region,
                                           profile=profile, deployment=deployment), as_json=as_json)
        return
    if input_text or bucket:
        raise UsageError("--input and --bucket go with --backend aws",
                         hint="locally, run-batch classifies the images below --prefix in the local store")
    from scones.workflow.runs import run_batch as run_locally

    done = run_locally(app.settings, make_options(keep_history=not no_history, **options), prefix=prefix,
                       limit=limit, concurrency=concurrency)
    summary = done.summary
    click.echo(json.dumps(summary.to_json()) if as_json else summary.format_text())
    if summary.errored:
        errors = ", ".join(f"{k}: {v}" for k, v in summary.errors.items())
        click.echo(f"Warning: {summary.errored} execution(s) errored ({errors}); "
                   "see 'scones workflow history NAME' or the failure notifications", err=True)
    if done.interrupted is not None:
        click.echo(f"Interrupted: {done.interrupted.not_started} execution(s) were not started.", err=True)
        raise SystemExit(done.interrupted.exit_code)
