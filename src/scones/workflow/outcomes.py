"""How Scones executions ended, in the workflow's own terms: accepted, low confidence, errored.

The interpreter says SUCCEEDED or FAILED with an error name; people running the
Scones workflow want to know whether an image was kept, rejected for low
confidence, or broke something, and how a batch went overall (counts, accuracy
against the manifests' labels, latency).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from scones.errors import NotFoundError
from scones.store import Store
from scones.workflow.asl.executor import Execution

LOG = logging.getLogger(__name__)

LOW_CONFIDENCE_ERROR: Final = "ThresholdConfidenceNotMet"
IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg")


class Outcome(str, Enum):
    ACCEPTED = "accepted"
    LOW_CONFIDENCE = "low_confidence"
    ERRORED = "errored"


@dataclass(frozen=True)
class ExecutionOutcome:
    """How one execution ended, as the batch summary and the CLI need it."""

    name: str
    execution_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    seconds: float
    #: The error of the last failed Task, for executions that end in a Fail state without an Error
    #: (the AWS console's recorded definition catches States.ALL into an empty Fail).
    task_error: str | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status == "SUCCEEDED":
            return Outcome.ACCEPTED
        if (self.error or self.task_error) == LOW_CONFIDENCE_ERROR:
            return Outcome.LOW_CONFIDENCE
        return Outcome.ERRORED

    @property
    def s3_key(self) -> str | None:
        key = self.input.get("s3_key") if isinstance(self.input, Mapping) else None
        return key if isinstance(key, str) else None

    @property
    def inferences(self) -> list[float] | None:
        body = self.output.get("body") if isinstance(self.output, Mapping) else None
        values = body.get("inferences") if isinstance(body, Mapping) else None
        return [float(v) for v in values] if isinstance(values, list) and values else None

    def to_json(self) -> dict[str, Any]:
        output = self.output
        if isinstance(output, Mapping) and isinstance(output.get("body"), Mapping):
            # The base64 image is noise on a terminal; everything else is printed as returned.
            output = {**output, "body": {k: v for k, v in output["body"].items() if k != "image_data"}}
        return {"name": self.name, "executionArn": self.execution_arn, "status": self.status,
                "outcome": self.outcome.value, "output": output, "error": self.error, "cause": self.cause,
                "task_error": self.task_error,
                "seconds": round(self.seconds, 6)}

    def format_text(self) -> str:
        """What ``scones workflow run`` prints: status and ARN, then the output or what failed."""
        lines = [f"{self.status}  {self.execution_arn}  ({self.seconds * 1000:.0f} ms)"]
        if self.outcome is Outcome.LOW_CONFIDENCE:
            lines.append("outcome: low confidence (the image was not kept)")
        if self.inferences:
            lines.append(f"inferences: {self.inferences}")
        if self.status == "SUCCEEDED":
            lines.append("output: " + json.dumps(self.to_json()["output"], ensure_ascii=False))
        elif self.error:
            lines.append(f"error: {self.error}\ncause: {self.cause}")
        elif self.task_error:
            lines.append(f"error: (none: the Fail state names no error); the failed task raised {self.task_error}")
        else:
            lines.append(f"error: {self.error}\ncause: {self.cause}")
        return "\n".join(lines)


def last_task_error(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The error of the last failed Task: what an execution ending in a Fail state without an Error failed on."""
    for event in reversed(events):
        for key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails"):
            details = event.get(key)
            if isinstance(details, Mapping) and details.get("error"):
                return str(details["error"])
    return None


def outcome_of(execution: Execution, seconds: float) -> ExecutionOutcome:
    status = execution.status.value
    task_error = last_task_error(execution.events()) if status != "SUCCEEDED" and not execution.error else None
    return ExecutionOutcome(name=execution.name, execution_arn=execution.execution_arn, status=status,
                            input=execution.input, output=execution.output, error=execution.error,
                            cause=execution.cause, seconds=seconds, task_error=task_error)


@dataclass(frozen=True)
class BatchSummary:
    total: int
    accepted: int
    low_confidence: int
    errored: int
    seconds: float
    labelled: int = 0
    correct: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: tuple[float, ...] = ()
    #: Executions never started because the batch was interrupted (Ctrl-C, SIGTERM).
    not_started: int = 0

    @property
    def executions_per_second(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    def to_json(self) -> dict[str, Any]:
        return {"executions": self.total, "succeeded": self.accepted, "low_confidence": self.low_confidence,
                "errored": self.errored, "errors": dict(self.errors), "seconds": round(self.seconds, 4),
                "executions_per_second": round(self.executions_per_second, 2),
                "accuracy_accepted": None if self.accuracy is None else round(self.accuracy, 4),
                "labelled_accepted": self.labelled, "not_started": self.not_started,
                "latency_ms": latency_percentiles(self.latencies)}

    def format_text(self) -> str:
        lines = [
            f"executions:            {self.total}",
            f"succeeded:             {self.accepted}",
            f"failed, low confidence: {self.low_confidence}",
            f"errored:               {self.errored}" + (f"  {dict(self.errors)}" if self.errors else ""),
            *([f"not started:           {self.not_started} (interrupted)"] if self.not_started else []),
            f"executions per second: {self.executions_per_second:.1f} ({self.seconds:.2f} s)",
        ]
        if self.accuracy is None:
            why = "no image was accepted" if not self.accepted else "no labels for the accepted images"
            lines.append(f"accuracy (accepted):   n/a ({why})")
        else:
            lines.append(f"accuracy (accepted):   {self.accuracy:.4f} ({self.correct}/{self.labelled})")
        pct = latency_percentiles(self.latencies)
        if pct:
            lines.append("latency ms:            " + ", ".join(f"{k} {v:.1f}" for k, v in pct.items()))
        return "\n".join(lines)


def latency_percentiles(latencies: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds (nearest-rank)."""
    if not latencies:
        return {}
    ordered = sorted(latencies)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 1)) - 1))
        return ordered[index] * 1000.0

    return {"p50": round(rank(0.50), 3), "p90": round(rank(0.90), 3), "p99": round(rank(0.99), 3),
            "max": round(ordered[-1] * 1000.0, 3)}


def summarize(outcomes: Sequence[ExecutionOutcome], seconds: float, labels: Mapping[str, int]) -> BatchSummary:
    counts = {o: 0 for o in Outcome}
    errors: dict[str, int] = {}
    labelled = correct = 0
    for item in outcomes:
        counts[item.outcome] += 1
        if item.outcome is Outcome.ERRORED:
            errors[item.error or "unknown"] = errors.get(item.error or "unknown", 0) + 1
        inferences, key = item.inferences, item.s3_key
        if item.outcome is Outcome.ACCEPTED and inferences and key is not None and key in labels:
            labelled += 1
            correct += int(max(range(len(inferences)), key=inferences.__getitem__) == labels[key])
    return BatchSummary(total=len(outcomes), accepted=counts[Outcome.ACCEPTED],
                        low_confidence=counts[Outcome.LOW_CONFIDENCE], errored=counts[Outcome.ERRORED],
                        seconds=seconds, labelled=labelled, correct=correct, errors=errors,
                        latencies=tuple(o.seconds for o in outcomes))


def load_labels(store: Store, keys: Iterable[str]) -> dict[str, int]:
    """Labels of ``keys`` from the SageMaker manifests beside them (``dataset/test/x.png`` -> ``dataset/test.lst``)."""
    labels: dict[str, int] = {}
    folders = {key.rpartition("/")[0] for key in keys if "/" in key}
    for folder in sorted(folders):
        manifest = folder + ".lst"
        if not store.exists(manifest):
            LOG.info("no manifest %s: accuracy will not count images of %s/", manifest, folder)
            continue
        for line in store.get_text(manifest).splitlines():
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            try:
                labels[f"{folder}/{parts[2].strip()}"] = int(float(parts[1]))
            except ValueError:
                continue
    return labels


def image_keys(store: Store, prefix: str, limit: int | None = None) -> list[str]:
    keys = [k for k in store.list(prefix) if k.lower().endswith(IMAGE_SUFFIXES)]
    if not keys:
        raise NotFoundError(f"No images under {store.uri_for(prefix)}",
                            hint="stage the dataset first (scones data stage) or pass another --prefix")
    return keys[:limit] if limit is not None else keys
