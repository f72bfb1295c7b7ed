"""``scones load``: stream random test images through the workflow at a steady rate."""

from __future__ import annotations

import json
from typing import Any

import click

from scones.cli.context import AppContext, FiniteFloatRange, pass_app
from scones.cli.options import make_options, pipeline_options


@click.command("load")
@click.option("--rate", type=FiniteFloatRange(), required=True, help="Executions started per second (at most 1000).")
@click.option("--duration", type=FiniteFloatRange(), required=True,
              help="Seconds to keep the stream going (at most 3600).")
@click.option("--prefix", default="dataset/test/", show_default=True, help="Pick images below this key.")
@click.option("--max-in-flight", default=64, show_default=True, type=click.IntRange(1, 512),
              help="Executions running at once; beyond that a due execution is skipped.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random image choice.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pipeline_options
@pass_app
def load(app: AppContext, rate: float, duration: float, prefix: str, max_in_flight: int, seed: int,
         as_json: bool, **options: Any) -> None:
    """Stream random images through the Scones workflow and report latency percentiles."""
    from scones.workflow.runs import load as run_load

    report = run_load(app.settings, make_options(**options), prefix=prefix, rate=rate, duration=duration,
                      max_in_flight=max_in_flight, seed=seed)
    click.echo(json.dumps(report.to_json()) if as_json else report.format_text())
    if report.errored:
        click.echo(f"Warning: {report.errored} execution(s) errored "
                   f"({', '.join(f'{k}: {v}' for k, v in report.errors.items())})", err=True)
