"""``Parallel``: runs every branch on the same input; the output is the array of branch outputs."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from scones.workflow.asl.checks import COMMON, ERRORS, FLOW, JSONPATH_IO, SCHEMA, Checker, FieldTable, Where
from scones.workflow.asl.concurrency import run_jobs
from scones.workflow.asl.context import Frame
from scones.workflow.asl.errors import FailureError
from scones.workflow.asl.history import EventType
from scones.workflow.asl.program import StateMachine
from scones.workflow.asl.query_language import QueryLanguage
from scones.workflow.asl.states.base import BuildContext
from scones.workflow.asl.states.execution_state import ExecutionState


class ParallelState(ExecutionState):
    FIELDS: ClassVar[FieldTable] = {
        QueryLanguage.JSONPATH: COMMON | JSONPATH_IO | FLOW | ERRORS | {"Branches", "ResultPath", "Parameters",
                                                                        "ResultSelector", "Assign"},
        QueryLanguage.JSONATA: COMMON | FLOW | ERRORS | {"Branches", "Arguments", "Output", "Assign"},
    }
    entered_event = EventType.PARALLEL_STATE_ENTERED
    exited_event = EventType.PARALLEL_STATE_EXITED

    def __init__(self, name: str, props: dict[str, Any], language: QueryLanguage,
                 branches: list[StateMachine]) -> None:
        super().__init__(name, props, language)
        self.branches = branches

    @classmethod
    def build(cls, name: str, props: dict[str, Any], language: QueryLanguage,
              context: BuildContext) -> ParallelState:
        return cls(name, props, language, [context.machine(b, language) for b in props["Branches"]])

    @classmethod
    def _validate_work(cls, checker: Checker, props: dict[str, Any], where: Where, language: QueryLanguage) -> None:
        branches = props.get("Branches")
        if not isinstance(branches, list) or not branches:
            checker.add(SCHEMA, "Branches must be a non-empty array", *where)
            return
        for i, branch in enumerate(branches):
            checker.machine(branch, (*where, "Branches", i), language, top=False)

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
