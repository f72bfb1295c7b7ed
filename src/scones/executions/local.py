"""Where this machine keeps executions and state machines, the same for every front-end.

``scones workflow run``, ``run-batch`` and ``scones up`` all keep executions under
``<bucket>/executions/<name>.json`` (their listing index under ``SCONES_HOME/state``)
and state machines made through the API under ``SCONES_HOME/state/state-machines/``,
so one sees what the other ran; ``sns:publish`` messages go to ``<bucket>/notifications/sns/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from scones.executions.records import ExecutionRecords
from scones.executions.service import ExecutionService, Listener
from scones.executions.topics import StoreTopicPublisher

if TYPE_CHECKING:
    from scones.config import Settings
    from scones.lambda_runtime.contract import LambdaInvoker

#: Where executions are kept, as ``scones workflow history`` reads them: ``<bucket>/executions/<name>.json``.
EXECUTIONS_PREFIX: Final = "executions"
#: The listing index of kept executions, under ``SCONES_HOME`` (not in a bucket: it is not an object).
EXECUTIONS_INDEX: Final = Path("state") / "executions.sqlite"
#: The state machines made through the API, under ``SCONES_HOME``.
STATE_MACHINES: Final = Path("state") / "state-machines"


def open_records(settings: Settings) -> ExecutionRecords:
    """The executions kept in the default bucket, with their listing index."""
    from scones.store import LocalStore

    store = LocalStore.in_bucket(settings.store_root, settings.bucket).child(EXECUTIONS_PREFIX)
    return ExecutionRecords(store, index_path=settings.home / EXECUTIONS_INDEX)


def local_executions(settings: Settings, *, invoker: LambdaInvoker | None = None,
                     listeners: Sequence[Listener] = ()) -> ExecutionService:
    """The execution service of this machine, with its records and its state machines kept on disk."""
    from scones.executions.machines import StateMachineRegistry
    from scones.workflow.asl.distributed.objects import FolderObjects

    records = open_records(settings)
    records.open_index()  # a service that answers ListExecutions writes its rows straight into the index
    return ExecutionService(invoker=invoker, records=records, listeners=listeners,
                            machines=StateMachineRegistry(settings.home / STATE_MACHINES),
                            publisher=bucket_publisher(settings), objects=FolderObjects(settings.store_root))


def bucket_publisher(settings: Settings) -> StoreTopicPublisher:
    """Where local ``sns:publish`` messages go: the default bucket (``scones.executions.topics``)."""
    from scones.store import LocalStore

    return StoreTopicPublisher(LocalStore.in_bucket(settings.store_root, settings.bucket))
