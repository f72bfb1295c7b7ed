"""``scones demo``: the whole workflow end to end on this machine."""

from __future__ import annotations

import click

from scones.cli.context import AppContext, FiniteFloatRange, pass_app


@click.command()
@click.option("--source", metavar="SOURCE", default=None,
              help="CIFAR-100 source (URL, .tar.gz or SageMaker-layout folder). "
                   "Default: $SCONES_CIFAR_SOURCE, else the official URL.")
@click.option("--force", is_flag=True, help="Stage the data again even when it is already staged.")
@click.option("--retrain", is_flag=True, help="Train again even when a model for the same data and "
                                               "configuration is cached.")
@click.option("--threshold", type=FiniteFloatRange(0.0, 1.0, min_open=True), default=0.93, show_default=True,
              help="Confidence threshold of the filter function.")
@pass_app
def demo(app: AppContext, source: str | None, force: bool, retrain: bool, threshold: float) -> None:
    """Run the whole workflow end to end on this machine."""
    from scones.demo import run_demo

    run_demo(app.settings, source=source, force=force, retrain=retrain, threshold=threshold, echo=click.echo)
