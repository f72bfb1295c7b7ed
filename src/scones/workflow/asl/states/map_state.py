"""``Map`` in inline mode: the item processor runs once per item inside this execution.

``MapState`` is also the registry's class for every ``Map``: ``build`` makes a
``DistributedMapState`` when ``ProcessorConfig.Mode`` is ``DISTRIBUTED``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from scones.workflow.asl.concurrency import run_jobs
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError, StatesError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import BuildContext
from scones.workflow.asl.states.map_common import THRESHOLD_CAUSE, MapCommon


class MapState(MapCommon):
    @classmethod
    def build(cls, name: str, props: dict[str, Any], language: QueryLanguage,
              context: BuildContext) -> MapCommon:
        processor = props.get("ItemProcessor") or props["Iterator"]
        machine = context.machine(processor, language)
        if (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
            # Imported here: a definition without a Distributed Map (and `scones workflow run`'s start) skips it.
            from scones.workflow.asl.states.distributed_map_state import DistributedMapState

            return DistributedMapState(name, props, language, machine)
        return cls(name, props, language, machine)

    def _tolerance(self, frame: Frame, raw: Any, effective: Any, n: int) -> int:
        count = self._number(frame, raw, effective, self.tolerated_count)
        pct = self._number(frame, raw, effective, self.tolerated_percentage)
        allowed = -1
        if count is not None:
            allowed = max(allowed, int(count))
        if pct is not None:
            allowed = max(allowed, int(math.floor(float(pct) / 100.0 * n)))
        return allowed

    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        items = self._items(frame, raw, effective)
        inputs = [self._item_input(frame, raw, effective, i, item) for i, item in enumerate(items)]
        max_concurrency = self._number(frame, raw, effective, self.max_concurrency) or 0
        allowed = self._tolerance(frame, raw, effective, len(inputs))
        frame.event(EventType.MAP_STATE_STARTED, {"length": len(inputs)})
        base = {k: v for k, v in frame.context_object.items() if k in ("Execution", "StateMachine")}
        processor = self.processor
        name = self.name
        failures: list[FailureError] = []
        lock = threading.Lock()

        def job(index: int, value: Any) -> Any:
            def run(cancel: threading.Event) -> Any:
                child = frame.child(base)  # never mutated: states copy it on entry
                child.event(EventType.MAP_ITERATION_STARTED, {"name": name, "index": index})
                try:
                    out = processor.run(child, value, cancel)
                except FailureError as exc:
                    child.variables.release()
                    child.event(EventType.MAP_ITERATION_FAILED, {"name": name, "index": index})
                    if allowed >= 0:
                        with lock:
                            failures.append(exc)
                            if len(failures) <= allowed:
                                return exc.failure.as_output()
                        raise FailureError.of(StatesError.EXCEED_TOLERATED_FAILURE_THRESHOLD, THRESHOLD_CAUSE) from exc
                    raise
                child.variables.release()
                child.event(EventType.MAP_ITERATION_SUCCEEDED, {"name": name, "index": index})
                return out
            return run

        try:
            results = run_jobs([job(i, v) for i, v in enumerate(inputs)], threaded=processor.may_block(),
                               max_concurrency=int(max_concurrency))
        except FailureError:
            frame.event(EventType.MAP_STATE_FAILED)
            raise
        frame.event(EventType.MAP_STATE_SUCCEEDED)
        return results
