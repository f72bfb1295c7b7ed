"""The map runs of the executions one service owns: DescribeMapRun, ListMapRuns, UpdateMapRun.

A Distributed Map tells its host when its map run starts (``map_run_started``) and
hands over each Standard child execution as it ends (``child_ended``); the children
go to the service's sink like any execution, the map run records stay here, in
memory: the last ``RECENT_MAP_RUNS`` of them (a restart forgets them; the children's
records stay where every execution is kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from scones.errors import NotFoundError
from scones.workflow.asl.executor import Execution

if TYPE_CHECKING:  # a service whose machines have no Distributed Map never loads it
    from scones.workflow.asl.distributed.map_run import MapRun

#: Map runs remembered (beyond them the oldest finished ones are forgotten first).
RECENT_MAP_RUNS: Final = 4096


class MapRunDoesNotExist(NotFoundError):
    """No map run with that ARN (never started here, or forgotten)."""


class MapRuns:
    """``MapRunHost`` of an execution service; ``keep`` receives the Standard children as they end."""

    def __init__(self, keep: Callable[[Execution], None] | None = None, *, capacity: int = RECENT_MAP_RUNS) -> None:
        self._keep = keep
        self.capacity = capacity
        self._runs: OrderedDict[str, MapRun] = OrderedDict()
        self._lock = threading.Lock()

    # -- MapRunHost ---------------------------------------------------------------------
    def map_run_started(self, run: MapRun) -> None:
        from scones.workflow.asl.distributed.map_run import MapRunStatus

        with self._lock:
            self._runs[run.arn] = run
            if len(self._runs) > self.capacity:
                finished = next((arn for arn, r in self._runs.items() if r.status is not MapRunStatus.RUNNING),
                                None)
                self._runs.pop(finished if finished is not None else next(iter(self._runs)))

    def child_ended(self, record: Execution) -> None:
        if self._keep is not None:
            self._keep(record)

    # -- the API's side -----------------------------------------------------------------
    def describe(self, arn: str) -> MapRun:
        with self._lock:
            run = self._runs.get(arn)
        if run is None:
            raise MapRunDoesNotExist(f"Map Run Does Not Exist: {arn}",
                                     hint="map runs are kept in memory while 'scones up' runs")
        return run

    def of_execution(self, execution_arn: str) -> list[MapRun]:
        """The map runs an execution started, newest first."""
        with self._lock:
            runs = [r for r in self._runs.values() if r.execution_arn == execution_arn]
        return sorted(runs, key=lambda r: r.start_time, reverse=True)
