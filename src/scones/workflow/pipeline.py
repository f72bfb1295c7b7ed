"""The Scones workflow over many images: one execution per image, in parallel, summarised.

``local_pipeline`` opens the local environment for a Scones definition (Lambda
runtime, endpoint, execution service) and yields a ``LocalPipeline``, which asks
the environment's ``ExecutionService`` for one execution per input and reads how
each ended (accepted, low confidence, errored). Executions, their histories and
failure notifications are the service's business, not the pipeline's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from scones.config import Settings
from scones.declarations import Declarations
from scones.errors import WorkflowError
from scones.executions.plan import RunPlan
from scones.executions.service import ExecutionService
from scones.progress import progress
from scones.workflow.asl.executor import Execution
from scones.workflow.environment import PipelineOptions, chosen_definition, local_environment
from scones.workflow.outcomes import BatchSummary, ExecutionOutcome, outcome_of, summarize


class LocalPipeline:
    """Executions of one registered state machine, one per input, in terms of the Scones workflow."""

    def __init__(self, service: ExecutionService, state_machine: str, *, bucket: str) -> None:
        self.service = service
        self.state_machine = state_machine
        self.bucket = bucket

    @property
    def plan(self) -> RunPlan:
        return self.service.state_machine(self.state_machine).plan

    def input_for(self, key: str) -> dict[str, str]:
        return {"s3_bucket": self.bucket, "s3_key": key}

    def run(self, execution_input: Any, *, name: str | None = None) -> ExecutionOutcome:
        return self.run_with_execution(execution_input, name=name)[0]

    def run_with_execution(self, execution_input: Any, *, name: str | None = None) -> tuple[ExecutionOutcome,
                                                                                            Execution]:
        """The outcome and the interpreter's ``Execution`` (with its history)."""
        started = time.perf_counter()
        execution = self.service.run(self.state_machine, execution_input, name=name)
        return outcome_of(execution, time.perf_counter() - started), execution

    def run_many(self, inputs: Sequence[Any], *, concurrency: int = 8,
                 show_progress: bool = False) -> tuple[list[ExecutionOutcome], float]:
        """One execution per input, ``concurrency`` at a time; outcomes in input order, and the wall time
        (histories written included)."""
        if concurrency < 1:
            raise WorkflowError(f"--concurrency must be at least 1, got {concurrency}")
        if len(inputs) > 1 and self.service.records is not None:
            # Many executions: their listing rows go into the index in one transaction per written batch,
            # not as one small file each (creating a file costs more CPU than running a short execution).
            self.service.records.open_index()
        results: list[ExecutionOutcome | None] = [None] * len(inputs)
        started = time.perf_counter()
        interrupted: BaseException | None = None
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scones-exec") as pool, \
                progress(total=len(inputs), enabled=show_progress, desc="executions", unit="exec") as bar:
            futures = {pool.submit(self.run, item): i for i, item in enumerate(inputs)}
            try:
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update(1)
            except (KeyboardInterrupt, SystemExit) as exc:
                # Ctrl-C or SIGTERM: start nothing new; the executions in flight end normally
                # (leaving the pool waits for them; a second Ctrl-C stops at once).
                interrupted = exc
                for future in futures:
                    future.cancel()
        if interrupted is not None:
            for future, i in futures.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    results[i] = future.result()
        self.service.flush()
        elapsed = time.perf_counter() - started
        done = [r for r in results if r is not None]
        if interrupted is not None:
            raise BatchInterrupted(done, len(inputs) - len(done), elapsed, interrupted)
        return done, elapsed

    def run_batch(self, keys: Sequence[str], *, concurrency: int = 8, labels: Mapping[str, int] | None = None,
                  show_progress: bool = False) -> BatchSummary:
        """The batch's summary; when interrupted, ``BatchInterrupted`` carries the summary of what ran."""
        try:
            outcomes, elapsed = self.run_many([self.input_for(k) for k in keys], concurrency=concurrency,
                                              show_progress=show_progress)
        except BatchInterrupted as stop:
            stop.summary = replace(summarize(stop.outcomes, stop.seconds, labels or {}), not_started=stop.not_started)
            raise
        return summarize(outcomes, elapsed, labels or {})


class BatchInterrupted(Exception):
    """A batch stopped by Ctrl-C or SIGTERM: what ran, and how many executions were never started."""

    def __init__(self, outcomes: list[ExecutionOutcome], not_started: int, seconds: float,
                 cause: BaseException) -> None:
        super().__init__(f"interrupted: {not_started} execution(s) not started")
        self.outcomes, self.not_started, self.seconds, self.cause = outcomes, not_started, seconds, cause
        self.summary: BatchSummary | None = None

    @property
    def exit_code(self) -> int:
        return self.cause.code if isinstance(self.cause, SystemExit) and isinstance(self.cause.code, int) else 130


@contextlib.contextmanager
def local_pipeline(settings: Settings, options: PipelineOptions | None = None, *,
                   declarations: Declarations | None = None) -> Iterator[LocalPipeline]:
    """``options.definition`` (a shipped name or a file) wired to the local store, Lambda runtime and an endpoint."""
    from scones.workspace import declare

    options = options or PipelineOptions()
    if declarations is None:
        declarations = declare(settings, options.declared)
    name, text = chosen_definition(options, declarations)
    plan = RunPlan.from_definition(text)
    with local_environment(settings, options, plan, state_machine=name, declarations=declarations) as service:
        yield LocalPipeline(service, name, bucket=settings.bucket)
