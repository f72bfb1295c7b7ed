"""The ``scones`` command line: one click group whose sub-commands load lazily.

Each command group lives in its own module under ``scones.cli`` and is imported
only when it is called, so ``scones workflow run`` never pays for torch or
onnxruntime. A command parses its arguments, calls one library function and
prints the result; ``SconesError`` becomes ``Error: ...`` and a non-zero exit
here and nowhere else.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any, Final

import click

from scones.cli.context import AppContext
from scones.errors import SconesError

#: name -> "module:attribute" of a click command or group, imported on first use.
COMMANDS: Final[dict[str, str]] = {
    "data": "scones.cli.data_cmd:data",
    "train": "scones.cli.train_cmd:train",
    "threshold": "scones.cli.train_cmd:threshold",
    "serve": "scones.cli.serve_cmd:serve",
    "workflow": "scones.cli.workflow_cmd:workflow",
    "load": "scones.cli.load_cmd:load",
    "monitor": "scones.cli.monitor_cmd:monitor",
    "package": "scones.cli.aws_cmd:package",
    "deploy": "scones.cli.aws_cmd:deploy",
    "destroy": "scones.cli.aws_cmd:destroy",
    "demo": "scones.cli.demo_cmd:demo",
    "up": "scones.cli.up_cmd:up",
}

HELP: Final[dict[str, str]] = {
    "data": "Stage CIFAR-100 classes as PNG files and SageMaker .lst manifests.",
    "train": "Train an image classifier and export model.tar.gz (ONNX).",
    "threshold": "Recommend the filter's confidence threshold from validation data.",
    "serve": "Serve a model.tar.gz with SageMaker's hosting contract and Data Capture.",
    "workflow": "Validate and run Step Functions state machines locally.",
    "load": "Stream test images through the workflow at a steady rate.",
    "monitor": "Baseline, drift and an HTML report from Data Capture.",
    "package": "Build deployment packages (Lambda zips).",
    "deploy": "Deploy the workflow to AWS.",
    "destroy": "Remove what 'scones deploy' created.",
    "demo": "Run the whole workflow end to end on this machine.",
    "up": "Serve S3, Lambda, Step Functions and SageMaker Runtime locally for unchanged AWS code.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported only when invoked (or asked for help)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, _, attr = self.lazy[cmd_name].partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.startswith("scones.cli"):
                    return None  # that part of scones is not built yet
                raise
            command = getattr(module, attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help must not import every command module (torch, onnxruntime...).
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                module_name = self.lazy[name].partition(":")[0]
                if importlib.util.find_spec(module_name) is None:
                    continue
                rows.append((name, HELP.get(name, "")))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scones")
@click.option("--home", type=click.Path(file_okay=False), envvar="SCONES_HOME",
              help="Where scones keeps its store, caches and logs (default ./.scones).")
@click.option("--no-progress", is_flag=True, help="Do not show progress bars.")
@click.pass_context
def cli(ctx: click.Context, home: str | None, no_progress: bool) -> None:
    """scones: the Scones Unlimited ML workflow on one laptop, and on AWS when you outgrow it."""
    ctx.obj = AppContext.create(home=home, no_progress=no_progress)


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM (``kill``, a CI timeout, a container stop) raises SystemExit like Ctrl-C raises
    KeyboardInterrupt, so ``finally`` blocks run: a staging folder is removed, a child endpoint is
    stopped. Python's default would end the process at once and leave them behind. ``scones serve``
    installs uvicorn's own handler (drain, then stop) once it starts listening."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread (e.g. main() called in a test thread)

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        raise SystemExit(128 + signal.SIGTERM)

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, terminate)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn user errors into one clean line and an exit code."""
    _exit_cleanly_on_sigterm()
    try:
        # Without standalone mode click returns (rather than exits with) a command's exit code.
        code = cli.main(args=argv, prog_name="scones", standalone_mode=False)
    except SconesError as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:
        # A last net for AWS SDK errors that escaped a command's own handling: one line, no traceback.
        if not type(exc).__module__.startswith(("botocore", "boto3", "s3transfer")):
            raise
        click.echo(f"Error: AWS: {exc}\n  hint: check credentials, --region and the network, then retry", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
