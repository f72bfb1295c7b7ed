"""``Parallel``: runs every branch on the same input; the output is the array of branch outputs."""

from __future__ import annotations

import threading
from typing import Any

from scones.workflow.asl.concurrency import run_jobs
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.execution_state import ExecutionState


class ParallelState(ExecutionState):
    entered_event = EventType.PARALLEL_STATE_ENTERED
    exited_event = EventType.PARALLEL_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage,
                 branches: list[StateMachine]) -> None:
        super().__init__(name, props, language)
        self.branches = branches

    def _work(self, frame: Frame, raw: Any, effective: Any) -> Any:
        flow = self.flow
        branch_input = flow.parameters_value(frame, effective, raw) if flow.has_parameters() else effective
        frame.event(EventType.PARALLEL_STATE_STARTED)
        base = {k: v for k, v in frame.context_object.items() if k in ("Execution", "StateMachine")}

        def job(branch: StateMachine) -> Any:
            def run(cancel: threading.Event) -> Any:
                child = frame.child(base)
                try:
                    return branch.run(child, branch_input, cancel)
                finally:
                    child.variables.release()
            return run

        threaded = any(b.may_block() for b in self.branches)
        try:
            results = run_jobs([job(b) for b in self.branches], threaded=threaded)
        except FailureError as exc:
            frame.event(EventType.PARALLEL_STATE_FAILED)
            raise exc
        frame.event(EventType.PARALLEL_STATE_SUCCEEDED)
        return results

    def may_block(self) -> bool:
        return any(b.may_block() for b in self.branches)
