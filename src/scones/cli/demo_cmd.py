"""``scones demo``: the whole workflow end to end on this machine."""

from __future__ import annotations

import click

from scones.cli.context import AppContext, pass_app


@click.command()
@click.option("--source", metavar="SOURCE", default=None,
              help="CIFAR-100 source (URL, .tar.gz or SageMaker-layout folder). "
                   "Default: $SCONES_CIFAR_SOURCE, else the official URL.")
@click.option("--force", is_flag=True, help="Redo stages whose output already exists.")
@pass_app
def demo(app: AppContext, source: str | None, force: bool) -> None:
    """Run the whole workflow end to end on this machine."""
    from scones.demo import run_demo

    run_demo(app.settings, source=source, force=force, echo=click.echo)
