"""A map run: the child executions one Distributed Map state started, and what DescribeMapRun says of them.

ARNs (developer guide, "Examining Map Runs" and the ResultWriter examples; the
child forms as DescribeExecution returns them):

- map run: ``arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<id>``
- the children's state machine: ``arn:aws:states:<region>:<account>:stateMachine:<machine>/<label>``
- a Standard child: ``arn:aws:states:<region>:<account>:execution:<machine>/<label>:<name>``
- an Express child: ``arn:aws:states:<region>:<account>:express:<machine>/<label>:<name>:<id>``
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from scones.workflow.asl.executor import Execution

#: "Distributed Map ... up to 10,000 parallel child workflow executions" (developer guide, quotas):
#: the concurrency a map run reports when ``MaxConcurrency`` is 0 or absent.
AWS_MAX_CONCURRENCY: Final = 10_000


class MapRunStatus(str, Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


class ExecutionType(str, Enum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


@dataclass
class Counts:
    """MapRunItemCounts / MapRunExecutionCounts."""

    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    total: int = 0
    results_written: int = 0

    def to_aws(self) -> dict[str, int]:
        return {"pending": self.pending, "running": self.running, "succeeded": self.succeeded,
                "failed": self.failed, "timedOut": self.timed_out, "aborted": self.aborted, "total": self.total,
                "resultsWritten": self.results_written, "failuresNotRedrivable": 0, "pendingRedrive": 0}


@dataclass
class MapRun:
    arn: str
    execution_arn: str
    #: The children's state machine (``stateMachine:<machine>/<label>``).
    state_machine_arn: str
    label: str
    execution_type: ExecutionType
    start_time: float
    max_concurrency: int
    #: None: not set (no failure tolerated unless the other threshold allows it).
    tolerated_failure_count: int | None
    tolerated_failure_percentage: float | None
    status: MapRunStatus = MapRunStatus.RUNNING
    stop_time: float | None = None
    items: Counts = field(default_factory=Counts)
    executions: Counts = field(default_factory=Counts)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, *, state_machine_arn: str, execution_arn: str, label: str, execution_type: ExecutionType,
               start_time: float, max_concurrency: int, tolerated_failure_count: int | None,
               tolerated_failure_percentage: float | None) -> MapRun:
        head, _, machine = state_machine_arn.partition(":stateMachine:")
        return cls(arn=f"{head}:mapRun:{machine}/{label}:{uuid.uuid4()}", execution_arn=execution_arn,
                   state_machine_arn=f"{state_machine_arn}/{label}", label=label, execution_type=execution_type,
                   start_time=start_time, max_concurrency=max_concurrency,
                   tolerated_failure_count=tolerated_failure_count,
                   tolerated_failure_percentage=tolerated_failure_percentage)

    @property
    def id(self) -> str:
        return self.arn.rsplit(":", 1)[1]

    def child_arn(self, name: str, rng: random.Random) -> str:
        head, _, machine = self.state_machine_arn.partition(":stateMachine:")
        if self.execution_type is ExecutionType.EXPRESS:
            return f"{head}:express:{machine}:{name}:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        return f"{head}:execution:{machine}:{name}"

    # -- progress (any thread) --------------------------------------------------------
    def read(self, items: int) -> None:
        """``items`` more items known (they wait for a child execution)."""
        with self._lock:
            self.items.total += items
            self.items.pending += items

    def started(self, items: int) -> None:
        with self._lock:
            self.items.pending -= items
            self.items.running += items
            self.executions.total += 1
            self.executions.running += 1

    def ended(self, items: int, status: str) -> None:
        """A child ended with ``status`` (an execution status name)."""
        with self._lock:
            self.items.running -= items
            self.executions.running -= 1
            for counts, n in ((self.items, items), (self.executions, 1)):
                if status == "SUCCEEDED":
                    counts.succeeded += n
                elif status == "TIMED_OUT":
                    counts.timed_out += n
                elif status == "ABORTED":
                    counts.aborted += n
                else:
                    counts.failed += n

    def written(self, items: int, executions: int) -> None:
        with self._lock:
            self.items.results_written += items
            self.executions.results_written += executions

    def failed_items(self) -> int:
        return self.items.failed + self.items.timed_out + self.items.aborted

    def exceeded(self, total: int | None) -> bool:
        """Whether the failures so far exceed the tolerated ones; ``total`` is the number of items once known.

        "If you specify both, the map run fails when it exceeds either"; with neither, no failure is
        tolerated (developer guide, "Setting failure thresholds for Distributed Map states").
        """
        failed = self.failed_items()
        count, percentage = self.tolerated_failure_count, self.tolerated_failure_percentage
        if count is None and percentage is None:
            return failed > 0
        if count is not None and failed > count:
            return True
        return percentage is not None and total is not None and total > 0 and failed * 100 > percentage * total

    def end(self, status: MapRunStatus, now: float) -> None:
        with self._lock:
            if self.status is MapRunStatus.RUNNING:
                self.status = status
                self.stop_time = now

    def update(self, *, max_concurrency: int | None = None, tolerated_failure_count: int | None = None,
               tolerated_failure_percentage: float | None = None) -> None:
        """UpdateMapRun: new tolerated failures count from the next ended child on; a new MaxConcurrency
        is recorded, but a running map run keeps the number of threads it started with."""
        with self._lock:
            if max_concurrency is not None:
                self.max_concurrency = max_concurrency
            if tolerated_failure_count is not None:
                self.tolerated_failure_count = tolerated_failure_count
            if tolerated_failure_percentage is not None:
                self.tolerated_failure_percentage = tolerated_failure_percentage

    # -- shapes (epoch seconds; the API writes them out) -------------------------------
    def describe(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {
                "mapRunArn": self.arn, "executionArn": self.execution_arn, "status": self.status.value,
                "startDate": self.start_time, "maxConcurrency": self.max_concurrency,
                "toleratedFailurePercentage": float(self.tolerated_failure_percentage or 0),
                "toleratedFailureCount": int(self.tolerated_failure_count or 0),
                "itemCounts": self.items.to_aws(), "executionCounts": self.executions.to_aws(),
                "redriveCount": 0,
            }
            if self.stop_time is not None:
                out["stopDate"] = self.stop_time
            return out

    def list_item(self) -> dict[str, Any]:
        out: dict[str, Any] = {"executionArn": self.execution_arn, "mapRunArn": self.arn,
                               "stateMachineArn": self.state_machine_arn, "startDate": self.start_time}
        if self.stop_time is not None:
            out["stopDate"] = self.stop_time
        return out


class MapRunHost(Protocol):
    """Who owns the executions hears of map runs and of Standard children (their records go to its sink)."""

    def map_run_started(self, run: MapRun) -> None: ...

    def child_ended(self, record: Execution) -> None: ...
