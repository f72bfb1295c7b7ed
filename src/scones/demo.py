"""The main job, end to end on the local backend: a list of named stages run in order.

Each stage reads what earlier stages left in ``DemoState`` (and in the store),
does one step of the workflow through the library, and returns a short
summary for people. Later issues append their stages (train, serve, workflow,
load, monitor) to ``default_stages``.
"""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scones.config import Settings

LOG = logging.getLogger(__name__)


@dataclass
class DemoState:
    """What the stages share: the settings, where things live, and what earlier stages produced."""

    settings: Settings
    source: str
    dataset_uri: str
    force: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)


DemoStage = Callable[[DemoState], str]


@dataclass(frozen=True)
class StageOutcome:
    name: str
    summary: str
    seconds: float


def stage_data(state: DemoState) -> str:
    """Stage the bicycle and motorcycle images into the local store."""
    from scones.data.stage import format_summary, stage_dataset

    result = stage_dataset(state.source, state.dataset_uri, cache_dir=state.settings.cache_dir,
                           force=state.force, show_progress=state.settings.progress)
    state.outputs["dataset"] = result
    return format_summary(result)


def default_stages() -> list[tuple[str, DemoStage]]:
    return [("stage data", stage_data)]


def run_demo(settings: Settings, *, source: str | None = None, force: bool = False,
             stages: Sequence[tuple[str, DemoStage]] | None = None,
             echo: Callable[[str], None] = print) -> list[StageOutcome]:
    """Run every stage in order, echoing a numbered header and each stage's summary."""
    state = DemoState(settings=settings, source=source or settings.cifar_source,
                      dataset_uri=settings.default_uri("dataset"), force=force)
    plan = list(stages if stages is not None else default_stages())
    outcomes: list[StageOutcome] = []
    started = time.perf_counter()
    for number, (name, run) in enumerate(plan, start=1):
        echo(f"[{number}/{len(plan)}] {name}")
        begun = time.perf_counter()
        summary = run(state)
        outcomes.append(StageOutcome(name, summary, time.perf_counter() - begun))
        echo(textwrap.indent(summary, "    "))
    echo(f"Demo finished: {len(plan)} stage{'s' if len(plan) != 1 else ''} in "
         f"{time.perf_counter() - started:.1f} s; everything is under {settings.home.resolve()}")
    return outcomes
