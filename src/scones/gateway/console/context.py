"""What the console reads: the services one ``scones up`` built, handed over once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from scones.executions.service import ExecutionService
    from scones.lambda_runtime.activity import Activity
    from scones.serve.app import Endpoint


class Functions(Protocol):
    """The Lambda runtime as the console sees it: the registered functions and what they have done."""

    @property
    def functions(self) -> Mapping[str, Any]: ...

    @property
    def activity(self) -> Activity: ...


@dataclass(frozen=True)
class ConsoleContext:
    executions: ExecutionService
    runtime: Functions
    endpoints: Mapping[str, Endpoint]
    #: The local store: every folder in it is a bucket.
    store_root: Path
    #: The Scones bucket (``SCONES_BUCKET``): where the monitoring report is looked for.
    bucket: str
    #: Starting and stopping executions is allowed (``scones up --console-write``).
    write: bool = False
