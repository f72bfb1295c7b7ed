"""Options shared by several commands, and their conversion to the library's option objects.

A leaf module: command modules import it, it imports no command module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from scones.cli.context import FiniteFloatRange, not_empty

if TYPE_CHECKING:
    from scones.workflow.environment import PipelineOptions

F = TypeVar("F", bound=Callable[..., Any])


def pipeline_options(func: F) -> F:
    """Where the endpoint comes from and how the functions run; shared by run, run-batch, check and load."""
    options = [
        click.option("--endpoint-url", callback=not_empty,
                     help="URL of a running 'scones serve' (default: start one on demand)."),
        click.option("--model", callback=not_empty,
                     help="model.tar.gz to serve on demand (default: <store>/<bucket>/model/model.tar.gz)."),
        click.option("--endpoint-name", default="scones-endpoint", show_default=True, callback=not_empty,
                     help="ENDPOINT_NAME given to classifyImage."),
        click.option("--threshold", type=FiniteFloatRange(0.0, 1.0),
                     help="THRESHOLD given to filterInferences (default 0.93)."),
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
    return declaration_options(func)


def declaration_options(func: F) -> F:
    """The user's own workflow: functions, their environment, endpoint names and a SAM/CloudFormation template."""
    options = [
        click.option("--function", "functions", multiple=True, metavar="NAME=PATH[:HANDLER]",
                     help="Run NAME from PATH: a .py file (HANDLER: its function, default lambda_handler), a folder "
                          "or a .zip (HANDLER: module.function, default lambda_function.lambda_handler); "
                          "repeatable. Wins over a built-in of the same name."),
        click.option("--env", "env", multiple=True, metavar="NAME:KEY=VALUE",
                     help="Set environment variable KEY of function NAME; repeatable."),
        click.option("--endpoint", "endpoints", multiple=True, metavar="NAME=MODEL_URI",
                     help="Serve MODEL_URI (model.tar.gz) as SageMaker endpoint NAME, the name the code calls; "
                          "repeatable."),
        click.option("--template", callback=not_empty, metavar="FILE",
                     help="An AWS SAM or CloudFormation template declaring functions, state machines and buckets."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def backend_options(func: F) -> F:
    """``--backend local|aws`` and where the AWS deployment is; shared by ``workflow run`` and ``run-batch``."""
    options = [
        click.option("--backend", type=click.Choice(["local", "aws"]), default="local", show_default=True,
                     help="Run here (local interpreter, Lambda runtime and endpoint) or on AWS Step Functions "
                          "deployed by 'scones deploy aws'."),
        click.option("--region", help="AWS region of the deployment (with --backend aws)."),
        click.option("--profile", help="AWS profile (with --backend aws)."),
        click.option("--deployment", default="scones", show_default=True,
                     help="Name prefix of the deployment ('scones deploy aws --prefix'; with --backend aws)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_options(definition: str | None = None, **kwargs: Any) -> PipelineOptions:
    """The library's ``PipelineOptions`` from a command's keyword arguments (others are ignored)."""
    from scones.workflow.definitions import DEFAULT_DEFINITION
    from scones.workflow.environment import PipelineOptions
    from scones.workspace import DeclarationOptions

    fields = PipelineOptions.__dataclass_fields__
    declared = DeclarationOptions(**{k: kwargs.pop(k) for k in ("functions", "env", "endpoints", "template")
                                     if k in kwargs})
    return PipelineOptions(definition=definition or DEFAULT_DEFINITION, declared=declared,
                           **{k: v for k, v in kwargs.items() if k in fields and k != "definition"})
