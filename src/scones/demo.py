"""The main job, end to end on the local backend: a list of named stages run in order.

stage data → train (or reuse) → start the endpoint with Data Capture → run the batch
state machine over every test image → stop the endpoint (capture flushed) → baseline
and monitoring report → one summary.

The endpoint is stopped *before* the report is built, so the report reads every
record the endpoint answered. Each stage reads what earlier stages left in
``DemoState`` (and in the store), does one step through the library, and returns a
short summary for people. Anything started (the endpoint) is registered on one
``ExitStack``, so a failure in any stage leaves nothing running.
"""

from __future__ import annotations

import contextlib
import logging
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from scones.config import Settings
from scones.errors import SconesError

LOG = logging.getLogger(__name__)

DEFAULT_THRESHOLD: Final = 0.93
TEST_PREFIX: Final = "dataset/test/"


@dataclass
class DemoState:
    """What the stages share: the settings, where things live, and what earlier stages produced."""

    settings: Settings
    source: str
    dataset_uri: str
    force: bool = False
    retrain: bool = False
    threshold: float = DEFAULT_THRESHOLD
    outputs: dict[str, Any] = field(default_factory=dict)
    resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def model_dir_uri(self) -> str:
        return self.settings.default_uri("model")

    @property
    def model_uri(self) -> str:
        return self.settings.default_uri("model/model.tar.gz")

    @property
    def capture_uri(self) -> str:
        return self.settings.default_uri("data_capture")

    @property
    def baseline_uri(self) -> str:
        return self.settings.default_uri("monitor/baseline")

    @property
    def report_uri(self) -> str:
        return self.settings.default_uri("monitor/report")

    @property
    def executions_uri(self) -> str:
        return self.settings.default_uri("executions")


DemoStage = Callable[[DemoState], str]


@dataclass(frozen=True)
class StageOutcome:
    name: str
    summary: str
    seconds: float


class DemoStageError(SconesError):
    """A demo stage failed; the message names the stage and keeps the cause's advice."""


def stage_data(state: DemoState) -> str:
    """Stage the bicycle and motorcycle images into the local store."""
    from scones.data.stage import format_summary, stage_dataset

    result = stage_dataset(state.source, state.dataset_uri, cache_dir=state.settings.cache_dir,
                           force=state.force, show_progress=state.settings.progress)
    state.outputs["dataset"] = result
    return format_summary(result)


def stage_train(state: DemoState) -> str:
    """Train the default model, or reuse the cached one when data and configuration are unchanged."""
    from scones.data.dataset import dataset_fingerprint
    from scones.model_artifact import load_model
    from scones.store import open_store
    from scones.train.config import TrainConfig

    config = TrainConfig(threshold=state.threshold).resolved()
    fingerprint = dataset_fingerprint(open_store(state.dataset_uri))
    reused = False
    if not state.retrain:
        try:
            spec = load_model(state.model_uri).spec
            reused = (spec.training.get("dataset_fingerprint") == fingerprint
                      and spec.training.get("config") == config.to_dict())
        except SconesError:
            reused = False
    if reused:
        note = "reused the cached model (same data and configuration; --retrain to train again)"
    else:
        from scones.train.run import train

        train(state.dataset_uri, state.model_dir_uri, config, show_progress=state.settings.progress)
        spec = load_model(state.model_uri).spec
        note = f"trained {spec.training.get('arch')} in {spec.training.get('wall_seconds')} s"
    test = spec.metrics.get("test", {})
    at = test.get("at_threshold", {})
    state.outputs["model"] = spec
    low, high = test.get("accuracy_ci95", [float("nan"), float("nan")])
    return (f"{note}\n"
            f"test accuracy {test.get('accuracy', float('nan')):.3f} (95% CI {low:.3f}-{high:.3f}), "
            f"at threshold {state.threshold}: coverage {at.get('coverage', float('nan')):.3f}, "
            f"precision {at.get('precision', float('nan')):.3f}\n"
            f"model: {state.model_uri}")


def stage_serve(state: DemoState) -> str:
    """Start ``scones serve`` on a free loopback port with Data Capture into the store."""
    from scones.serve import running_endpoint

    # Capture times are whole seconds; the report covers this run's traffic from here on.
    state.outputs["serving_since"] = datetime.now(UTC).replace(microsecond=0)
    endpoint = state.resources.enter_context(running_endpoint(state.model_uri, capture_dest=state.capture_uri))
    state.outputs["endpoint"] = endpoint
    return f"endpoint {endpoint.endpoint_name} at {endpoint.url}, capturing to {state.capture_uri}"


def stage_workflow(state: DemoState) -> str:
    """Run the batch state machine over every test image, through the three functions and the endpoint."""
    from scones.store import LocalStore
    from scones.workflow.definitions import BATCH_DEFINITION
    from scones.workflow.environment import PipelineOptions
    from scones.workflow.outcomes import image_keys, load_labels
    from scones.workflow.pipeline import local_pipeline

    settings = state.settings
    endpoint = state.outputs["endpoint"]
    bucket = LocalStore.in_bucket(settings.store_root, settings.bucket)
    keys = image_keys(bucket, TEST_PREFIX)
    labels = load_labels(bucket, keys)
    options = PipelineOptions(endpoint_url=endpoint.url, definition=BATCH_DEFINITION, threshold=state.threshold)
    with local_pipeline(settings, options) as pipeline:
        started = time.perf_counter()
        outcome = pipeline.run({"s3_bucket": settings.bucket, "keys": keys})
        seconds = time.perf_counter() - started
    if outcome.status != "SUCCEEDED":
        raise DemoStageError(f"the batch execution {outcome.name} ended {outcome.status}: {outcome.error}: "
                             f"{outcome.cause}")
    summary = summarize_batch(outcome.output, labels, seconds)
    summary["execution"] = outcome.name
    state.outputs["workflow"] = summary
    return (f"{summary['items']} images in one batch execution ({summary['execution']}): "
            f"{summary['accepted']} accepted, {summary['low_confidence']} low confidence, "
            f"{summary['errored']} errored; {summary['per_second']:.1f} images/s\n"
            f"accuracy among accepted: {_ratio(summary['correct'], summary['accepted'])}\n"
            f"histories: {state.executions_uri}")


def summarize_batch(output: Any, labels: dict[str, int], seconds: float) -> dict[str, Any]:
    """Counts by outcome and accuracy among accepted images, from the batch machine's ``results``."""
    results = output.get("results", []) if isinstance(output, dict) else []
    counts = {"ACCEPTED": 0, "LOW_CONFIDENCE": 0}
    correct = 0
    for item in results:
        status = item.get("status")
        counts[status] = counts.get(status, 0) + 1
        inferences = item.get("inferences")
        label = labels.get(item.get("s3_key", ""))
        if status == "ACCEPTED" and inferences and label is not None:
            correct += int(max(range(len(inferences)), key=inferences.__getitem__) == label)
    errored = len(results) - counts["ACCEPTED"] - counts["LOW_CONFIDENCE"]
    return {"items": len(results), "accepted": counts["ACCEPTED"], "low_confidence": counts["LOW_CONFIDENCE"],
            "errored": errored, "correct": correct, "seconds": seconds,
            "per_second": len(results) / seconds if seconds > 0 else 0.0}


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a (nothing accepted)"


def stage_stop(state: DemoState) -> str:
    """Stop the endpoint with SIGTERM, which flushes every captured record to the store."""
    state.resources.close()
    state.resources = contextlib.ExitStack()
    return f"endpoint stopped; capture flushed to {state.capture_uri}"


def stage_monitor(state: DemoState) -> str:
    """Baseline on the validation images, then the monitoring report over what was captured."""
    from scones.monitor.baseline import build_baseline, load_baseline
    from scones.monitor.report import ReportOptions, build_report

    progress = state.settings.progress
    build_baseline(state.model_uri, state.dataset_uri, state.baseline_uri, show_progress=progress)
    result = build_report(state.capture_uri, state.report_uri, load_baseline(state.baseline_uri),
                          ReportOptions(threshold=state.threshold, show_progress=progress,
                                        since=state.outputs.get("serving_since")),
                          baseline_uri=state.baseline_uri)
    state.outputs["report"] = result
    verdict = (f"{len(result.violations)} constraint violation(s)" if result.violated
               else "no constraint violations")
    return (f"{result.records} captured images analysed; {verdict}\n"
            f"report: {report_html_path(state)}")


def report_html_path(state: DemoState) -> str:
    from scones.store import open_store

    store = open_store(state.report_uri)
    local = store.local_path("report.html")
    return str(local) if local is not None else store.uri_for("report.html")


def default_stages() -> list[tuple[str, DemoStage]]:
    return [
        ("stage data", stage_data),
        ("train model", stage_train),
        ("start endpoint", stage_serve),
        ("run the batch state machine", stage_workflow),
        ("stop endpoint", stage_stop),
        ("baseline and monitoring report", stage_monitor),
    ]


def final_summary(state: DemoState, seconds: float) -> str:
    lines = [f"Demo finished in {seconds:.1f} s; everything is under {state.settings.home.resolve()}"]
    spec = state.outputs.get("model")
    if spec is not None:
        test = spec.metrics.get("test", {})
        at = test.get("at_threshold", {})
        lines.append(f"  model accuracy (test):   {test.get('accuracy', float('nan')):.3f}; coverage at "
                     f"{state.threshold}: {at.get('coverage', float('nan')):.3f}")
    flow = state.outputs.get("workflow")
    if flow is not None:
        lines.append(f"  workflow:                {flow['accepted']} succeeded / {flow['low_confidence']} low "
                     f"confidence / {flow['errored']} errored, {flow['per_second']:.1f} images/s")
    report = state.outputs.get("report")
    lines += [f"  model:                   {state.model_uri}",
              f"  data capture:            {state.capture_uri}",
              f"  execution histories:     {state.executions_uri}"]
    if report is not None:
        lines.append(f"  monitoring report:       {report_html_path(state)}")
    return "\n".join(lines)


def run_demo(settings: Settings, *, source: str | None = None, force: bool = False, retrain: bool = False,
             threshold: float = DEFAULT_THRESHOLD, stages: Sequence[tuple[str, DemoStage]] | None = None,
             echo: Callable[[str], None] = print) -> list[StageOutcome]:
    """Run every stage in order, echoing a numbered header, each stage's summary and time."""
    state = DemoState(settings=settings, source=source or settings.cifar_source,
                      dataset_uri=settings.default_uri("dataset"), force=force, retrain=retrain,
                      threshold=threshold)
    plan = list(stages if stages is not None else default_stages())
    outcomes: list[StageOutcome] = []
    started = time.perf_counter()
    with state.resources:
        for number, (name, run) in enumerate(plan, start=1):
            echo(f"[{number}/{len(plan)}] {name}")
            begun = time.perf_counter()
            try:
                summary = run(state)
            except SconesError as exc:
                raise DemoStageError(f"the demo stopped at stage {number} ({name}): {exc.message}",
                                     hint=exc.hint) from exc
            took = time.perf_counter() - begun
            outcomes.append(StageOutcome(name, summary, took))
            echo(textwrap.indent(f"{summary}\n({took:.1f} s)", "    "))
        state.resources.close()
    echo(final_summary(state, time.perf_counter() - started))
    return outcomes
