"""``scones workflow run-batch`` and ``check`` (and the Scones default of ``workflow run``).

These commands belong to the ``workflow`` group of ``workflow_cmd``; they live
here so the interpreter's commands and the pipeline's can change apart.
``register(group)`` adds them to the group.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scones.cli.aws_backend import backend_options
from scones.cli.context import AppContext, FiniteFloatRange, not_empty, pass_app
from scones.errors import UsageError
from scones.workflow.runs import parse_input

F = TypeVar("F", bound=Callable[..., Any])


def pipeline_options(func: F) -> F:
    """Where the endpoint comes from and how the functions run; shared by run, run-batch, check and load."""
    options = [
        click.option("--endpoint-url", callback=not_empty, help="URL of a running 'scones serve' (default: start one on demand)."),
        click.option("--model", callback=not_empty, help="model.tar.gz to serve on demand (default: <store>/<bucket>/model/model.tar.gz)."),
        click.option("--endpoint-name", default="scones-endpoint", show_default=True, callback=not_empty,
                     help="ENDPOINT_NAME given to classifyImage."),
        click.option("--threshold", type=FiniteFloatRange(0.0, 1.0), help="THRESHOLD given to filterInferences (default 0.93)."),
        click.option("--isolated", is_flag=True,
                     help="Run each function from its deployment zip in a clean subprocess."),
        click.option("--function-concurrency", type=click.IntRange(1, 1000),
                     help="Invocations of one function in flight at once; beyond it Lambda throttles "
                          "(Lambda.TooManyRequestsException, retried by the state machine). Default: unlimited "
                          "in-process, 8 with --isolated (run-batch: at least --concurrency)."),
        click.option("--strict-timeouts", is_flag=True,
                     help="Answer a function timeout on time even while the handler blocks in a C call "
                          "(runs handlers on separate threads; slower)."),
        click.option("--webhook", help="Also POST failure notifications to this URL."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_options(definition: str | Path | None = None, **kwargs: Any) -> Any:
    from scones.workflow.pipeline import DEFAULT_DEFINITION, PipelineOptions

    return PipelineOptions(definition=definition or DEFAULT_DEFINITION,
                           **{k: v for k, v in kwargs.items() if k in PipelineOptions.__dataclass_fields__})


def resolve_prefix(app: AppContext, prefix: str) -> str:
    """``test/`` means the staged ``dataset/test/`` when only the latter exists (the classic layout had no prefix)."""
    from scones.store import LocalStore

    store = LocalStore.in_bucket(app.settings.store_root, app.settings.bucket)
    if not store.list(prefix) and store.list("dataset/" + prefix):
        return "dataset/" + prefix
    return prefix


def uses_scones_functions(definition: str | Path | None) -> bool:
    """Whether a definition calls the Scones functions (and so needs the local runtime and an endpoint)."""
    if definition is None:
        return True
    from scones.functions.catalog import SCONES_FUNCTIONS
    from scones.workflow.check import function_states
    from scones.workflow.pipeline import load_definition

    names = {info.name for info in SCONES_FUNCTIONS}
    return bool(names & set(function_states(load_definition(definition))))


def run_scones(app: AppContext, *, input_text: str, name: str | None, as_json: bool,
               definition: str | Path | None = None, **options: Any) -> None:
    """``scones workflow run`` of a definition that calls Lambda (the Scones one by default), on the local backend.

    ``--json`` prints the interpreter's protocol object (status, output, error, cause, executionArn).
    """
    from scones.workflow.pipeline import local_pipeline

    execution_input = parse_input(input_text)
    if isinstance(execution_input, dict) and "s3_key" in execution_input:
        execution_input.setdefault("s3_bucket", app.settings.bucket)
        key = execution_input["s3_key"]
        if isinstance(key, str) and key:
            execution_input["s3_key"] = resolve_prefix(app, key)
    with local_pipeline(app.settings, make_options(definition, **options)) as pipeline:
        outcome, execution = pipeline.run_with_execution(execution_input, name=name)
    if as_json:
        click.echo(json.dumps(execution.result(), ensure_ascii=False))
        return
    click.echo(f"{outcome.status}  {outcome.execution_arn}")
    click.echo(f"outcome: {outcome.outcome.value} in {outcome.seconds * 1000:.0f} ms")
    if outcome.inferences:
        click.echo(f"inferences: {outcome.inferences}")
    if outcome.error:
        click.echo(f"error: {outcome.error}\ncause: {outcome.cause}")
    elif outcome.task_error:
        click.echo(f"error: (none: the Fail state names no error); the failed task raised {outcome.task_error}")


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
def run_batch(app: AppContext, prefix: str | None, concurrency: int, limit: int | None, no_history: bool, as_json: bool,
              input_text: str | None, bucket: str | None, backend: str, region: str | None, profile: str | None,
              deployment: str, **options: Any) -> None:
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
    from scones.store import LocalStore
    from scones.workflow.pipeline import image_keys, load_labels, local_pipeline

    store = LocalStore.in_bucket(app.settings.store_root, app.settings.bucket)
    keys = image_keys(store, resolve_prefix(app, prefix or "dataset/test/"), limit)
    labels = load_labels(store, keys)
    if options.get("isolated") and options.get("function_concurrency") is None:
        # One worker interpreter per concurrent invocation: enough for --concurrency executions.
        from scones.lambda_runtime.runtime import DEFAULT_ISOLATED_CONCURRENCY

        options["function_concurrency"] = max(DEFAULT_ISOLATED_CONCURRENCY, concurrency)
    from scones.workflow.pipeline import BatchInterrupted

    interrupted: BatchInterrupted | None = None
    with local_pipeline(app.settings, make_options(keep_history=not no_history, **options)) as pipeline:
        try:
            summary = pipeline.run_batch(keys, concurrency=concurrency, labels=labels,
                                         show_progress=app.settings.progress)
        except BatchInterrupted as stop:
            assert stop.summary is not None
            summary, interrupted = stop.summary, stop
    click.echo(json.dumps(summary.to_json()) if as_json else summary.format_text())
    if summary.errored:
        click.echo(f"Warning: {summary.errored} execution(s) errored ({', '.join(f'{k}: {v}' for k, v in summary.errors.items())}); "
                   "see 'scones workflow history NAME' or the failure notifications", err=True)
    if interrupted is not None:
        click.echo(f"Interrupted: {interrupted.not_started} execution(s) were not started.", err=True)
        raise SystemExit(interrupted.exit_code)


def register(group: click.Group) -> None:
    """Add the pipeline's commands to the ``workflow`` group."""
    from scones.cli.check_cmd import check

    group.add_command(run_batch)
    group.add_command(check)
