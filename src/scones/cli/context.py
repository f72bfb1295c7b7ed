"""The object every command receives: settings and the default store, built once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

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
