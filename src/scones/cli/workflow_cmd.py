"""``scones workflow``: validate and run States Language definitions locally, and show their history.

``run --json`` is a scriptable protocol: exactly one JSON object on stdout
(``status``, ``output``, ``error``, ``cause``, ``executionArn``), exit 0 whenever
the execution ran, whatever its status.
"""

from __future__ import annotations

import json
from typing import Any

import click

from scones.cli.batch_cmd import run_batch
from scones.cli.check_cmd import check
from scones.cli.context import AppContext, pass_app
from scones.cli.options import backend_options, make_options, pipeline_options
from scones.errors import UsageError


@click.group()
def workflow() -> None:
    """Validate and run Step Functions state machines locally."""


@workflow.command()
@click.option("--definition", "definition", required=True, type=click.Path(dir_okay=False),
              help="State machine definition (Amazon States Language JSON).")
@click.option("--json", "as_json", is_flag=True, help="Print the errors as a JSON array.")
def validate(definition: str, as_json: bool) -> None:
    """Check a definition as AWS would; exit 1 and list the problems if any."""
    from scones.workflow.runs import validate_file

    errors = validate_file(definition)
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in errors]))
    elif errors:
        for e in errors:
            click.echo(str(e))
    else:
        click.echo(f"{definition}: valid")
    if errors:
        raise SystemExit(1)


@workflow.command()
@click.option("--definition", "definition", default=None, type=click.Path(dir_okay=False),
              help="State machine definition (Amazon States Language JSON); default: the Scones state machine.")
@click.option("--input", "input_text", default="{}", show_default=True,
              help="Execution input: JSON text, or @FILE.")
@click.option("--name", default=None, help="Execution name (default: a UUID).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: status, output, error, cause.")
@pipeline_options
@backend_options
@pass_app
def run(app: AppContext, definition: str | None, input_text: str, name: str | None, as_json: bool,
        backend: str, region: str | None, profile: str | None, deployment: str, **options: Any) -> None:
    """Run a state machine once and print its result.

    When the definition calls the Scones functions (the default one does), they run in the
    local Lambda runtime against the endpoint (--endpoint-url, or one started on demand from
    the store's model). Ctrl-C ends the execution ABORTED and keeps its history.
    """
    if backend == "aws":
        from scones.cli.aws_backend import print_result, reject_local_options, run_on_step_functions
        from scones.workflow.runs import parse_input

        if definition is not None:
            raise UsageError("--definition runs locally; on AWS the deployed Scones state machine runs",
                             hint="drop --definition, or drop --backend aws")
        reject_local_options()
        print_result(run_on_step_functions(app, parse_input(input_text), batch=False, name=name, region=region,
                                           profile=profile, deployment=deployment), as_json=as_json)
        return
    from scones.workflow.runs import run_workflow

    outcome, execution = run_workflow(app.settings, make_options(definition, **options), input_text, name=name,
                                      on_waiting=_announce_waiting)
    click.echo(json.dumps(execution.result(), ensure_ascii=False) if as_json else outcome.format_text())


def _announce_waiting(task: Any, api_url: str | None) -> None:
    """A task of this run waits for a callback: say so on stderr (stdout stays the result)."""
    if api_url:
        answer = (f"Answer it from another shell while this run lasts: scones workflow approve TOKEN --label ... "
                  f"--endpoint-url {api_url}")
    else:
        answer = ("Nothing in this process can answer it (it serves no Step Functions API): run the state machine "
                  "in 'scones up' to answer with 'scones workflow approve' or 'reject'. Here it waits until its "
                  "TimeoutSeconds or HeartbeatSeconds end it, or Ctrl-C.")
    click.echo(f"State '{task.state_name}' waits for a callback with the task token:\n  {task.token}\n{answer}",
               err=True)


def _summary(event: dict[str, Any]) -> str:
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}
    parts = []
    for key in ("name", "error", "cause", "resource"):
        if key in details:
            parts.append(f"{key}={details[key]}")
    text = " ".join(parts)
    return text if len(text) <= 100 else text[:97] + "..."


@workflow.command()
@click.argument("execution")
@click.option("--json", "as_json", is_flag=True, help="Print the events as GetExecutionHistory's JSON.")
@pass_app
def history(app: AppContext, execution: str, as_json: bool) -> None:
    """Show the events of a past execution (by name or ARN)."""
    from scones.workflow.runs import history as kept_execution

    record = kept_execution(app.settings, execution)
    events = record.events()
    if as_json:
        click.echo(json.dumps({"events": events}, ensure_ascii=False))
        return
    click.echo(f"{record.status.value}  {record.execution_arn}")
    click.echo(f"{'id':>4}  {'timestamp':24}  {'type':28}  details")
    for event in events:
        click.echo(f"{event['id']:>4}  {event['timestamp']:24}  {event['type']:28}  {_summary(event)}")


_ENDPOINT_HELP = ("The Step Functions API holding the token: a running 'scones up' (default: AWS_ENDPOINT_URL, "
                  "e.g. http://127.0.0.1:4566).")


@workflow.command()
@click.argument("token")
@click.option("--label", required=True, help="The label the person gives the image (sent as {\"label\": ...}).")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", default=None, help=_ENDPOINT_HELP)
def approve(token: str, label: str, endpoint_url: str | None) -> None:
    """Answer a task waiting for review: SendTaskSuccess with the label, and the execution goes on."""
    from scones.workflow.review import approve as send_approval

    output = send_approval(token, label=label, endpoint_url=endpoint_url)
    click.echo(f"approved: the task goes on with {json.dumps(output)}")


@workflow.command()
@click.argument("token")
@click.option("--error", default="Rejected", show_default=True, help="The error name the task fails with.")
@click.option("--cause", default=None, help="Why (the failure's cause).")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", default=None, help=_ENDPOINT_HELP)
def reject(token: str, error: str, cause: str | None, endpoint_url: str | None) -> None:
    """Answer a task waiting for review with a failure: SendTaskFailure (its Catch may handle it)."""
    from scones.workflow.review import reject as send_rejection

    send_rejection(token, error=error, cause=cause, endpoint_url=endpoint_url)
    click.echo(f"rejected: the task fails with {error}")


workflow.add_command(run_batch)
workflow.add_command(check)
