"""One function as the local Lambda runtime knows it: what ``CreateFunction`` would be given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from scones.lambda_runtime.contract import DEFAULT_TIMEOUT_SECONDS, Handler


@dataclass(frozen=True)
class FunctionConfig:
    """One registered function. ``handler`` is ``module.attr`` (or, in-process only, a callable)."""

    name: str
    handler: str | Handler
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = 128  # recorded and passed to the context; not enforced locally
    package: bytes | None = None  # the deployment zip, required in isolated mode
    #: At most this many invocations in flight (AWS's reserved concurrency); ``None``: the runtime's limit.
    reserved_concurrency: int | None = None


class Ran(NamedTuple):
    """What a runner hands back for one invocation: the payload (result or error object), whether it failed,
    and the invocation's log (START ... REPORT)."""

    payload: Any
    failed: bool
    log: str
