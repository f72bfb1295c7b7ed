"""Batch summaries and latency percentiles from execution outcomes (pure functions)."""

from __future__ import annotations

from typing import Any

from scones.workflow.outcomes import ExecutionOutcome, Outcome, latency_percentiles, summarize


def outcome(key: str, status: str, *, error: str | None = None, inferences: list[float] | None = None,
            seconds: float = 0.01, task_error: str | None = None) -> ExecutionOutcome:
    output: Any = {"statusCode": 200, "body": {"s3_key": key, "inferences": inferences}} if inferences else None
    return ExecutionOutcome(name=key, execution_arn=f"arn:{key}", status=status, input={"s3_key": key},
                            output=output, error=error, cause=None, seconds=seconds, task_error=task_error)


def test_outcome_kinds() -> None:
    assert outcome("a", "SUCCEEDED", inferences=[0.9, 0.1]).outcome is Outcome.ACCEPTED
    assert outcome("b", "FAILED", error="ThresholdConfidenceNotMet").outcome is Outcome.LOW_CONFIDENCE
    assert outcome("c", "FAILED", task_error="ThresholdConfidenceNotMet").outcome is Outcome.LOW_CONFIDENCE
    assert outcome("d", "FAILED", error="ObjectNotFound").outcome is Outcome.ERRORED
    assert outcome("e", "TIMED_OUT", error="States.Timeout").outcome is Outcome.ERRORED


def test_summary_counts_and_accuracy_among_accepted() -> None:
    outcomes = [
        outcome("a", "SUCCEEDED", inferences=[0.95, 0.05]),  # predicts 0, label 0: correct
        outcome("b", "SUCCEEDED", inferences=[0.02, 0.98]),  # predicts 1, label 0: wrong
        outcome("c", "SUCCEEDED", inferences=[0.01, 0.99]),  # no label: not counted
        outcome("d", "FAILED", error="ThresholdConfidenceNotMet"),
        outcome("e", "FAILED", error="ObjectNotFound"),
        outcome("f", "FAILED", error="ObjectNotFound"),
    ]
    summary = summarize(outcomes, 2.0, {"a": 0, "b": 0, "d": 1})
    assert (summary.total, summary.accepted, summary.low_confidence, summary.errored) == (6, 3, 1, 2)
    assert (summary.labelled, summary.correct, summary.accuracy) == (2, 1, 0.5)
    assert summary.errors == {"ObjectNotFound": 2}
    assert summary.executions_per_second == 3.0
    text = summary.format_text()
    assert "failed, low confidence: 1" in text and "accuracy (accepted):   0.5000 (1/2)" in text


def test_latency_percentiles_nearest_rank() -> None:
    assert latency_percentiles([]) == {}
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert latency_percentiles(values) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert latency_percentiles([0.005]) == {"p50": 5.0, "p90": 5.0, "p99": 5.0, "max": 5.0}
