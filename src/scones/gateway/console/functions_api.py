"""The Lambda functions for the console: counts, errors and durations, and their recent invocations."""

from __future__ import annotations

from typing import Any

from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.errors import NotFound


def _handler(config: Any) -> str:
    handler = getattr(config, "handler", "")
    return handler if isinstance(handler, str) else getattr(handler, "__qualname__", type(handler).__name__)


def functions(ctx: ConsoleContext) -> dict[str, Any]:
    out = []
    for name, config in sorted(ctx.runtime.functions.items()):
        out.append({"name": name, "handler": _handler(config), **ctx.runtime.activity.of(name).summary()})
    return {"functions": out}


def function(ctx: ConsoleContext, name: str) -> dict[str, Any]:
    config = ctx.runtime.functions.get(name)
    if config is None:
        raise NotFound(f"No function named {name!r}")
    activity = ctx.runtime.activity.of(name)
    return {"name": name, "handler": _handler(config), "timeoutSeconds": getattr(config, "timeout_seconds", None),
            "memoryMb": getattr(config, "memory_mb", None), **activity.summary(),
            "recent": [record.to_json() for record in reversed(activity.recent)]}
