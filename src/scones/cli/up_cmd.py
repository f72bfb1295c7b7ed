"""``scones up``: S3, Lambda, Step Functions and SageMaker Runtime on one local port, for unchanged AWS code."""

from __future__ import annotations

import logging

import click

from scones.cli.context import AppContext, not_empty, pass_app
from scones.cli.options import declaration_options
from scones.errors import UsageError


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback needs --access-key and --secret-key.")
@click.option("--port", type=click.IntRange(0, 65535), default=4566, show_default=True,
              help="Port to bind (0: any free port).")
@click.option("--state-machine", "state_machines", multiple=True, metavar="NAME=DEFINITION_FILE",
              help="Create state machine NAME from a States Language file; repeatable.")
@declaration_options
@click.option("--access-key", envvar="SCONES_UP_ACCESS_KEY", callback=not_empty,
              help="Accept only requests signed with this key (checked with SigV4).")
@click.option("--secret-key", envvar="SCONES_UP_SECRET_KEY", callback=not_empty,
              help="The secret of --access-key.")
@click.option("--log-level", type=click.Choice(["error", "warning", "info", "debug"]), default="warning",
              show_default=True, help="debug: one line per request.")
@click.option("--console-write", is_flag=True,
              help="Let the console (/_console/) start and stop executions; it only reads without this.")
@pass_app
def up(app: AppContext, host: str, port: int, state_machines: tuple[str, ...], functions: tuple[str, ...],
       env: tuple[str, ...], endpoints: tuple[str, ...], template: str | None, access_key: str | None,
       secret_key: str | None, log_level: str, console_write: bool) -> None:
    """Serve S3, Lambda, Step Functions and SageMaker Runtime on one port until Ctrl-C.

    Unchanged boto3 code, notebooks and the AWS CLI reach it with the variables it prints.
    """
    from scones.gateway.sigv4 import Credentials
    from scones.gateway.up import LocalAws, UpOptions, exports
    from scones.gateway.up import up as serve
    from scones.workspace import DeclarationOptions

    if (access_key is None) != (secret_key is None):
        raise UsageError("--access-key and --secret-key go together")
    credentials = Credentials(access_key, secret_key) if access_key and secret_key else None
    options = UpOptions(host=host, port=port, credentials=credentials, log_level=log_level,
                        console_write=console_write)
    declared = DeclarationOptions(functions=functions, env=env, endpoints=endpoints, state_machines=state_machines,
                                  template=template)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    console_mode = "starts and stops executions" if console_write else "read-only; --console-write to start executions"

    def ready(url: str, served: LocalAws) -> None:
        lines = [f"scones up: S3, Lambda, Step Functions and SageMaker Runtime on {url}",
                 *(f"  {line}" for line in served.describe()),
                 f"  console:        {url}/_console/ ({console_mode})",
                 "Point boto3, notebooks and the AWS CLI here:",
                 *(f"  export {k}={v}" for k, v in exports(url, credentials).items()),
                 "Stop with Ctrl-C."]
        click.echo("\n".join(lines), err=True)

    serve(app.settings, options, declared=declared, on_ready=ready)
    click.echo("scones up: stopped", err=True)
