"""``Map`` in distributed mode: each item (or batch) runs as a child execution of a map run.

Items stream from their source (the state input, or an ``ItemReader``) through
``ItemSelector`` and ``ItemBatcher`` to the children, so only the children in flight
and their results are held: with a ``ResultWriter`` exporting to the store, not even
the results. History of the parent: ``MapStateEntered``, ``MapRunStarted`` (its
``mapRunArn``), then ``MapRunSucceeded`` or ``MapRunFailed`` (error, cause) and
``MapStateExited``; the children's events are in their own histories (Standard) or
nowhere (Express).

Concurrency: children whose processor can block (a Task, a Wait) run on up to
``MaxConcurrency`` threads (AWS allows 10,000; this machine caps it at
``MAX_CHILD_THREADS``); pure data processors gain nothing from threads under the GIL
and run one after the other on the Map's thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from scones.workflow.asl.context import Frame
from scones.workflow.asl.distributed.batcher import BatchLimits, ItemBatcher, batches
from scones.workflow.asl.distributed.children import ChildResult
from scones.workflow.asl.distributed.item_reader import ItemReader
from scones.workflow.asl.distributed.map_run import AWS_MAX_CONCURRENCY, ExecutionType, MapRun, MapRunStatus
from scones.workflow.asl.distributed.result_writer import ResultFiles, ResultWriter, Transformation
from scones.workflow.asl.errors import Cancelled, ExecutionAborted, FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.jsontext import PAYLOAD_LIMIT_BYTES, to_compact_json
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.map_common import LABEL_PATTERN, THRESHOLD_CAUSE, MapCommon

#: The most children of one map run that run at once on this machine (threads), whatever MaxConcurrency says.
MAX_CHILD_THREADS: Final = 256


class DistributedMapState(MapCommon):
    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage, processor: StateMachine) -> None:
        super().__init__(name, props, language, processor)
        config = (props.get("ItemProcessor") or props["Iterator"]).get("ProcessorConfig") or {}
        self.execution_type = ExecutionType(config.get("ExecutionType", ExecutionType.STANDARD.value))
        self.reader = ItemReader(props["ItemReader"], language) if "ItemReader" in props else None
        batcher = props.get("ItemBatcher")
        self.batcher = ItemBatcher(batcher, language) if isinstance(batcher, dict) else None
        self.writer = ResultWriter(props["ResultWriter"], language) if "ResultWriter" in props else None
        # Without a Label, the state's name when it can be one (our choice; AWS generates a label).
        label = props.get("Label")
        if label is None:
            label = name if LABEL_PATTERN.fullmatch(name) else uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]
        self.label: str = label

    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        ctx = frame.execution
        max_concurrency = int(self._number(frame, raw, effective, self.max_concurrency) or 0)
        count = self._number(frame, raw, effective, self.tolerated_count)
        percentage = self._number(frame, raw, effective, self.tolerated_percentage)
        limits = self.batcher.limits(frame, raw, effective) if self.batcher is not None else None
        writer = self.writer
        destination = writer.destination(frame, raw, effective) if writer is not None and writer.exports else None
        run = MapRun.create(state_machine_arn=ctx.state_machine_arn, execution_arn=ctx.execution_arn,
                            label=self.label, execution_type=self.execution_type, start_time=ctx.clock.now(),
                            max_concurrency=max_concurrency,
                            tolerated_failure_count=None if count is None else int(count),
                            tolerated_failure_percentage=None if percentage is None else float(percentage))
        if ctx.map_runs is not None:
            ctx.map_runs.map_run_started(run)
        frame.event(EventType.MAP_RUN_STARTED, {"mapRunArn": run.arn})
        files = ResultFiles(writer, run, *destination) if writer is not None and destination is not None else None
        collector = _Collector(self, run, files)
        try:
            try:
                inputs = self._child_inputs(frame, raw, effective, limits)
                workers = min(max_concurrency or AWS_MAX_CONCURRENCY, MAX_CHILD_THREADS)
                if self.processor.may_block() and workers > 1:
                    self._run_threaded(frame, run, inputs, collector, workers)
                else:
                    self._run_in_order(frame, run, inputs, collector)
                collector.check_threshold(final=True)
            except FailureError as exc:
                if files is not None and exc.failure.error == StatesError.EXCEED_TOLERATED_FAILURE_THRESHOLD.value:
                    files.publish(frame)  # the results so far are still exported
                raise
            output = files.publish(frame) if files is not None else collector.output()
        except FailureError as exc:
            run.end(MapRunStatus.FAILED, ctx.clock.now())
            details = {k: v for k, v in (("error", exc.failure.error), ("cause", exc.failure.cause))
                       if v is not None}
            frame.event(EventType.MAP_RUN_FAILED, details)
            raise
        except (ExecutionAborted, Cancelled):
            run.end(MapRunStatus.ABORTED, ctx.clock.now())
            raise
        finally:
            if files is not None:
                files.close()  # the spooled results, whatever ended the run (publish has closed them already)
        run.end(MapRunStatus.SUCCEEDED, ctx.clock.now())
        frame.event(EventType.MAP_RUN_SUCCEEDED)
        return output

    def _child_inputs(self, frame: Frame, raw: Any, effective: Any,
                      limits: BatchLimits | None) -> Iterator[tuple[int, Any]]:
        """``(items, child input)`` per child, read as the children start."""
        items: Iterator[Any] = (self.reader.items(frame, raw, effective) if self.reader is not None
                                else iter(self._items(frame, raw, effective)))
        selected = (self._item_input(frame, raw, effective, index, item) for index, item in enumerate(items))
        if limits is not None:
            return batches(selected, limits)
        return ((1, value) for value in selected)

    def _run_in_order(self, frame: Frame, run: MapRun, inputs: Iterator[tuple[int, Any]],
                      collector: _Collector) -> None:
        for index, (items, child_input) in enumerate(inputs):
            _check_stop(frame)
            run.read(items)
            run.started(items)
            collector.add(index, _run_child(frame, run, self.processor, child_input, items))

    def _run_threaded(self, frame: Frame, run: MapRun, inputs: Iterator[tuple[int, Any]], collector: _Collector,
                      workers: int) -> None:
        """Up to ``workers`` children at once; an item is read only when a worker is free for it."""
        free = threading.Semaphore(workers)
        failures: list[BaseException] = []
        processor = self.processor

        def child(index: int, items: int, child_input: Any) -> None:
            try:
                run.started(items)
                collector.add(index, _run_child(frame, run, processor, child_input, items))
            except BaseException as exc:  # handed to the Map's thread, which raises the first one
                failures.append(exc)
            finally:
                free.release()

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="map-run") as pool:
            for index, (items, child_input) in enumerate(inputs):
                free.acquire()
                if failures:
                    free.release()
                    collector.pending(child_input)
                    break
                _check_stop(frame)
                run.read(items)
                pool.submit(child, index, items, child_input)
        if failures:
            raise failures[0]


def _run_child(frame: Frame, run: MapRun, processor: StateMachine, child_input: Any, items: int) -> ChildResult:
    runner = frame.execution.run_child
    if runner is None:
        raise FailureError.of(StatesError.RUNTIME, f"{frame.error_prefix()} This execution cannot start child "
                              "executions (it was not started by an Executor)")
    return runner(frame, run, processor, child_input, items)


def _check_stop(frame: Frame) -> None:
    stop = frame.execution.stop
    if stop is not None and stop.is_set():
        raise ExecutionAborted()
    if frame.cancel is not None and frame.cancel.is_set():
        raise Cancelled()


class _Collector:
    """The children's results as they end: the Map's result (bounded by the payload quota) or the files."""

    def __init__(self, state: DistributedMapState, run: MapRun, files: ResultFiles | None) -> None:
        self.state = state
        self.run = run
        self.files = files
        writer = state.writer
        self.transformation = writer.transformation if writer is not None else Transformation.COMPACT
        self._values: dict[int, list[Any]] = {}
        self._bytes = 2  # "[]"
        self._lock = threading.Lock()

    def add(self, index: int, result: ChildResult) -> None:
        run = self.run
        run.ended(result.items, result.status)
        with self._lock:
            if self.files is not None:
                self.files.add(result)
            else:
                values = self._shape(result)
                self._bytes += sum(len(to_compact_json(v).encode("utf-8")) + 1 for v in values)
                if self._bytes > PAYLOAD_LIMIT_BYTES:
                    # The Map's result could not be its output anyway: stop now rather than hold it all.
                    raise FailureError.of(
                        StatesError.DATA_LIMIT_EXCEEDED,
                        f"The state/task '{self.state.name}' returned a result with a size exceeding the maximum "
                        f"number of bytes service limit.")
                self._values[index] = values
        if not result.succeeded:
            self.check_threshold(final=False)

    def pending(self, child_input: Any) -> None:
        with self._lock:
            if self.files is not None:
                self.files.add_pending(child_input)

    def check_threshold(self, *, final: bool) -> None:
        """Fail the map run once its failures pass the tolerated ones (a percentage needs the total: at the end)."""
        if self.run.exceeded(self.run.items.total if final else None):
            raise FailureError.of(StatesError.EXCEED_TOLERATED_FAILURE_THRESHOLD, THRESHOLD_CAUSE)

    def _shape(self, result: ChildResult) -> list[Any]:
        if self.transformation is Transformation.NONE:
            return [result.entry(self.run.state_machine_arn)]
        if not result.succeeded:
            return [result.output_value()]
        if self.transformation is Transformation.FLATTEN and isinstance(result.output, list):
            return list(result.output)
        return [result.output]

    def output(self) -> list[Any]:
        out: list[Any] = []
        for index in sorted(self._values):
            out.extend(self._values[index])
        return out
