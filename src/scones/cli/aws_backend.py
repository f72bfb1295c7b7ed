"""``--backend aws`` for ``scones workflow run`` and ``run-batch``: the same commands, on Step Functions.

The deployed state machines are found by the deployment's prefix (``scones deploy aws
--prefix``); the result is printed in the same protocol as the local backend.
"""

from __future__ import annotations

import json
from typing import Any, Final

import click

from scones.cli.context import AppContext
from scones.errors import UsageError


def run_on_step_functions(app: AppContext, execution_input: Any, *, batch: bool, name: str | None,
                          region: str | None, profile: str | None, deployment: str) -> dict[str, Any]:
    """Start one execution of the deployed (batch) state machine, wait, and return the protocol object."""
    from scones.aws.run import run_batch_on_aws, run_on_aws
    from scones.aws.session import AwsClients, make_session

    clients = AwsClients.from_session(make_session(region=region, profile=profile))
    runner = run_batch_on_aws if batch else run_on_aws
    return runner(clients, execution_input, prefix=deployment, name=name,
                  show_progress=app.settings.progress).result()


#: Local-pipeline options: with --backend aws they would be silently ignored.
_LOCAL_ONLY: Final = ("endpoint_url", "model", "endpoint_name", "threshold", "isolated", "function_concurrency",
                      "functions", "env", "endpoints", "template",
                      "strict_timeouts", "webhook")


def reject_local_options() -> None:
    """The deployed machine, functions and endpoint run with what deploy gave them: refuse options that
    would only change the local run (e.g. --threshold) instead of ignoring them."""
    from scones.cli.context import given_options

    given = given_options(_LOCAL_ONLY)
    if given:
        raise UsageError(f"{', '.join(given)} only apply to the local backend; on AWS the deployment's own settings "
                         "are used",
                         hint="drop them, or redeploy with the setting (e.g. scones deploy aws --threshold)")


def batch_input_from_s3(bucket: str | None, prefix: str, limit: int | None, *, region: str | None,
                        profile: str | None) -> dict[str, Any]:
    """The batch machine's input ``{"s3_bucket", "keys"}`` for every image below ``s3://bucket/prefix``."""
    if not bucket:
        raise UsageError("--backend aws needs --bucket (or --input) to know which images to classify",
                         hint="e.g. --bucket my-bucket --prefix scones/dataset/test/")
    from scones.aws.session import make_session
    from scones.store import S3Store

    client = make_session(region=region, profile=profile).client("s3")
    keys = [k for k in S3Store(bucket, client=client).list(prefix) if k.lower().endswith((".png", ".jpg", ".jpeg"))]
    if not keys:
        raise UsageError(f"No images under s3://{bucket}/{prefix}",
                         hint="deploy the dataset first (scones deploy aws) or pass another --prefix")
    return {"s3_bucket": bucket, "keys": keys[:limit] if limit else keys}


def print_result(result: dict[str, Any], *, as_json: bool) -> None:
    """The run protocol object (local or AWS): one JSON line with --json, else a short text."""
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['status']}  {result['executionArn']}")
    if result["status"] == "SUCCEEDED":
        click.echo(json.dumps(result["output"], indent=2, ensure_ascii=False))
    else:
        click.echo(f"error: {result['error']}\ncause: {result['cause']}")
