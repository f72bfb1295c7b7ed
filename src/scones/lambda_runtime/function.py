"""One function as the local Lambda runtime knows it: what ``CreateFunction`` would be given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from scones.declarations import Origin
from scones.lambda_runtime.contract import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, Handler


@dataclass(frozen=True)
class FunctionConfig:
    """One registered function. ``handler`` is ``module.attr`` (or, in-process only, a callable).

    Its code comes from one of three places: the importable module ``handler`` names (in-process, the
    built-ins), ``package`` (a deployment zip, unpacked for an isolated worker) or ``code`` (a folder
    run in place by an isolated worker: the user's own functions).
    """

    name: str
    handler: str | Handler
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB  # recorded and passed to the context; not enforced locally
    package: bytes | None = None  # the deployment zip, required in isolated mode
    #: At most this many invocations in flight (AWS's reserved concurrency); ``None``: the runtime's limit.
    reserved_concurrency: int | None = None
    #: The folder the worker runs the handler from (its ``LAMBDA_TASK_ROOT``), instead of ``package``.
    code: Path | None = None
    #: Folders on the worker's path after the code, before the runtime's packages: installed requirements,
    #: then layers.
    paths: tuple[Path, ...] = ()
    #: Always run in an isolated worker, whatever the runtime's mode (the user's code never runs in-process).
    isolated: bool = False
    #: Who declared it; the user's functions get a private ``/tmp`` per container (see ``sandbox``).
    origin: Origin = Origin.BUILT_IN
    #: Where it was declared, for messages (``--function resize=./resize.py``).
    declared_at: str = ""


class Ran(NamedTuple):
    """What a runner hands back for one invocation: the payload (result or error object), whether it failed,
    and the invocation's log (START ... REPORT)."""

    payload: Any
    failed: bool
    log: str
