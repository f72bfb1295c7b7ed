"""Library functions behind ``scones workflow`` and ``scones load`` on this machine.

Each is what one command does, start to end, so the CLI only parses and prints:
read the definition once (``RunPlan``), open the local environment it needs,
ask the execution service, and return values to print. Kept free of heavy
imports at module level, so ``scones workflow run`` of a plain definition starts fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scones.workflow.asl.errors import InputError, ValidationError

if TYPE_CHECKING:
    from scones.config import Settings
    from scones.workflow.asl.executor import Execution
    from scones.workflow.check import CheckReport
    from scones.workflow.environment import PipelineOptions, WaitingListener
    from scones.workflow.load import LoadReport
    from scones.workflow.outcomes import BatchSummary, ExecutionOutcome
    from scones.workflow.pipeline import BatchInterrupted

#: Where ``run-batch``, ``check`` and ``load`` find images when no prefix is given.
DEFAULT_PREFIX = "dataset/test/"


def parse_input(text: str) -> Any:
    """``--input``: JSON text, or ``@FILE`` naming a file that holds it."""
    source = "--input"
    if text.startswith("@"):
        file = Path(text[1:])
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"Cannot read the input file {file}: {exc}",
                             hint="pass --input '{...}' or --input @path/to/input.json") from exc
        source = str(file)
    from scones.workflow.asl.jsontext import JsonTextError, parse_json

    try:
        return parse_json(text)
    except JsonTextError as exc:
        raise InputError(f"The execution input in {source} is not valid JSON: {exc}",
                         hint="the input must be a JSON value, e.g. '{\"s3_key\": \"test/x.png\"}'") from exc


def validate_file(path: str | Path) -> list[ValidationError]:
    from scones.workflow.asl import validate_definition
    from scones.workflow.definitions import read_definition

    return validate_definition(read_definition(path))


def run_workflow(settings: Settings, options: PipelineOptions, input_text: str, *, name: str | None,
                 on_waiting: WaitingListener | None = None) -> tuple[ExecutionOutcome, Execution]:
    """``scones workflow run``: one execution of ``options.definition``, kept with its history.

    Only what the definition needs is started (the Lambda runtime when it calls functions, an
    endpoint when it classifies). Ctrl-C or SIGTERM ends the execution ABORTED and keeps it.
    ``on_waiting(task, api_url=...)`` hears of each task that waits for a callback, with the URL of
    the Step Functions API that can answer it: the embedded ``scones up`` when the run has one
    (declared functions), else None (this process serves no API: the task waits for its timeouts).
    """
    from scones.executions.interrupt import run_until_done
    from scones.executions.plan import RunPlan
    from scones.workflow.environment import SERIALIZE_FUNCTION, chosen_definition, local_environment, scones_input
    from scones.workflow.outcomes import outcome_of
    from scones.workspace import declare

    execution_input = parse_input(input_text)  # before anything starts: a bad input costs nothing
    declarations = declare(settings, options.declared)
    machine, text = chosen_definition(options, declarations)
    plan = RunPlan.from_definition(text)
    if SERIALIZE_FUNCTION not in declarations.functions:
        execution_input = scones_input(settings, plan, execution_input)
    with local_environment(settings, options, plan, state_machine=machine, declarations=declarations,
                           on_waiting=on_waiting) as service:
        started = time.perf_counter()
        execution = run_until_done(service, machine, execution_input, name=name)
        seconds = time.perf_counter() - started
    return outcome_of(execution, seconds), execution


def history(settings: Settings, name_or_arn: str) -> Execution:
    """``scones workflow history``: a kept execution by name or ARN."""
    from scones.executions.local import open_records

    records = open_records(settings)
    try:
        return records.load(name_or_arn)
    finally:
        records.close()


@dataclass(frozen=True)
class BatchRun:
    """What ``run-batch`` did: its summary, and the interruption when Ctrl-C or SIGTERM cut it short."""

    summary: BatchSummary
    interrupted: BatchInterrupted | None = None


def run_batch(settings: Settings, options: PipelineOptions, *, prefix: str | None, limit: int | None,
              concurrency: int) -> BatchRun:
    """``scones workflow run-batch``: one execution per image below ``prefix``, ``concurrency`` at a time."""
    from scones.workflow.environment import resolve_prefix
    from scones.workflow.outcomes import image_keys, load_labels
    from scones.workflow.pipeline import BatchInterrupted, local_pipeline

    store = _bucket_store(settings)
    keys = image_keys(store, resolve_prefix(settings, prefix or DEFAULT_PREFIX), limit)
    labels = load_labels(store, keys)
    if options.isolated and options.function_concurrency is None:
        # One worker interpreter per concurrent invocation: enough for ``concurrency`` executions.
        from scones.lambda_runtime.runtime import DEFAULT_ISOLATED_CONCURRENCY

        options = replace(options, function_concurrency=max(DEFAULT_ISOLATED_CONCURRENCY, concurrency))
    with local_pipeline(settings, options) as pipeline:
        try:
            return BatchRun(pipeline.run_batch(keys, concurrency=concurrency, labels=labels,
                                               show_progress=settings.progress))
        except BatchInterrupted as stop:
            assert stop.summary is not None
            return BatchRun(stop.summary, stop)


def check(settings: Settings, options: PipelineOptions, input_text: str | None) -> CheckReport:
    """``scones workflow check``: one real execution (of the first test image by default), then every
    contract problem between its states."""
    from scones.workflow.check import catalogue_reads, run_check
    from scones.workflow.environment import resolve_prefix
    from scones.workflow.outcomes import image_keys
    from scones.workflow.pipeline import local_pipeline

    if input_text is None:
        key = image_keys(_bucket_store(settings), resolve_prefix(settings, DEFAULT_PREFIX), 1)[0]
        execution_input: Any = {"s3_bucket": settings.bucket, "s3_key": key}
    else:
        execution_input = parse_input(input_text)
    from scones.workspace import declare

    declarations = declare(settings, options.declared)
    # What the built-ins read is known; the user's functions' reads are inferred from what failed.
    reads = {name: read for name, read in catalogue_reads().items() if name not in declarations.functions}
    with local_pipeline(settings, options, declarations=declarations) as pipeline:
        return run_check(pipeline, execution_input, reads=reads)


def load(settings: Settings, options: PipelineOptions, *, prefix: str, rate: float, duration: float,
         max_in_flight: int, seed: int) -> LoadReport:
    """``scones load``: random images from ``prefix`` through the workflow at ``rate`` executions per second."""
    from scones.workflow.environment import resolve_prefix
    from scones.workflow.load import check_loopback, run_load
    from scones.workflow.outcomes import image_keys
    from scones.workflow.pipeline import local_pipeline

    check_loopback(options.endpoint_url)
    keys = image_keys(_bucket_store(settings), resolve_prefix(settings, prefix))
    with local_pipeline(settings, replace(options, keep_history=False)) as pipeline:
        return run_load(pipeline, keys, rate=rate, duration=duration, max_in_flight=max_in_flight, seed=seed,
                        show_progress=settings.progress)


def _bucket_store(settings: Settings) -> Any:
    from scones.store import LocalStore

    return LocalStore.in_bucket(settings.store_root, settings.bucket)
