"""The object every command receives: settings and the default store, built once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from scones.config import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings

    @classmethod
    def create(cls, *, home: str | None = None, no_progress: bool = False) -> AppContext:
        settings = Settings.from_env()
        if home:
            settings = replace(settings, home=Path(home))
        if no_progress:
            settings = replace(settings, progress=False)
        return cls(settings=settings)

    def default_uri(self, prefix: str) -> str:
        return self.settings.default_uri(prefix)


pass_app = click.make_pass_decorator(AppContext)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses NaN, which passes every range check (all comparisons
    with NaN are false) and would otherwise reach the code as a threshold."""

    name = "float range"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.min is None and self.max is None:
            self.name = "float"  # shown as FLOAT in --help, like click's own float

    def _describe_range(self) -> str:
        # Unbounded (only finite): click would print "x<=None".
        return "" if self.min is None and self.max is None else super()._describe_range()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return float(number)


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Click callback: an option given as '' (an unset shell variable) is an error, not its default."""
    if isinstance(value, str) and not value.strip():
        raise click.BadParameter("is empty; leave the option out for its default, or give a value")
    return value


def given_options(names: tuple[str, ...]) -> list[str]:
    """Which of the current command's parameters the user set (on the command line or through an
    environment variable), as ``--option`` names: taken from click, not by comparing with defaults."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    spelled = {p.name: p.opts[0] for p in ctx.command.params if p.name}
    return [spelled.get(name, f"--{name.replace('_', '-')}") for name in names
            if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)]
