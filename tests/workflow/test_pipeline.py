"""The Scones state machines end to end: interpreter + local Lambda runtime + a real ``scones serve``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scones.store import LocalStore
from scones.workflow.definitions import load_definition
from scones.workflow.environment import PipelineOptions
from scones.workflow.notifications import read_failures
from scones.workflow.outcomes import Outcome, load_labels
from scones.workflow.pipeline import LocalPipeline, local_pipeline

from .conftest import ENDPOINT_NAME, Staged, endpoint_probabilities

pytest.importorskip("scones.workflow.asl.program")  # the interpreter (issue 5)
pytestmark = pytest.mark.slow

RECORDED = "aws-recorded/stepfunction.json"


def expected(staged: Staged, endpoint: str) -> dict[str, list[float]]:
    return {k: endpoint_probabilities(endpoint, (staged.root / "scones" / k).read_bytes()) for k in staged.keys}


def split_threshold(probs: dict[str, list[float]]) -> float:
    """A threshold with images on both sides of it (computed from the endpoint, not hard-coded)."""
    tops = sorted(max(p) for p in probs.values())
    return (tops[len(tops) // 2 - 1] + tops[len(tops) // 2]) / 2


def options(endpoint: str, **kwargs: Any) -> PipelineOptions:
    return PipelineOptions(endpoint_url=endpoint, endpoint_name=ENDPOINT_NAME, **kwargs)


def test_single_execution_accepted_and_low_confidence(staged: Staged, endpoint: str) -> None:
    probs = expected(staged, endpoint)
    threshold = split_threshold(probs)
    high = next(k for k, p in probs.items() if max(p) >= threshold)
    low = next(k for k, p in probs.items() if max(p) < threshold)
    with local_pipeline(staged.settings, options(endpoint, threshold=threshold)) as pipeline:
        accepted = pipeline.run(pipeline.input_for(high))
        rejected = pipeline.run(pipeline.input_for(low), name="low-one")
    assert accepted.status == "SUCCEEDED" and accepted.outcome is Outcome.ACCEPTED
    assert accepted.output["statusCode"] == 200
    assert accepted.output["body"]["s3_key"] == high
    assert accepted.inferences == pytest.approx(probs[high], abs=1e-6)
    assert rejected.status == "FAILED" and rejected.outcome is Outcome.LOW_CONFIDENCE
    assert rejected.error == "ThresholdConfidenceNotMet"
    failures = read_failures(LocalStore.in_bucket(staged.settings.store_root, staged.settings.bucket))
    assert [(f.execution_name, f.error, f.s3_key) for f in failures] == [("low-one", "ThresholdConfidenceNotMet", low)]


def test_missing_image_errors_and_notifies(staged: Staged, endpoint: str) -> None:
    with local_pipeline(staged.settings, options(endpoint)) as pipeline:
        outcome = pipeline.run({"s3_bucket": "scones", "s3_key": "dataset/test/nope.png"})
    assert outcome.status == "FAILED" and outcome.outcome is Outcome.ERRORED
    assert outcome.error == "ObjectNotFound"
    assert "dataset/test/nope.png" in (outcome.cause or "")
    failures = read_failures(LocalStore.in_bucket(staged.settings.store_root, staged.settings.bucket))
    assert failures[0].error == "ObjectNotFound" and failures[0].s3_key == "dataset/test/nope.png"


def test_run_batch_summary_and_accuracy(staged: Staged, endpoint: str) -> None:
    probs = expected(staged, endpoint)
    threshold = split_threshold(probs)
    store = LocalStore.in_bucket(staged.settings.store_root, staged.settings.bucket)
    labels = load_labels(store, staged.keys)
    assert labels == staged.labels
    with local_pipeline(staged.settings, options(endpoint, threshold=threshold)) as pipeline:
        summary = pipeline.run_batch(staged.keys, concurrency=4, labels=labels)
    accepted = [k for k, p in probs.items() if max(p) >= threshold]
    correct = sum(1 for k in accepted if probs[k].index(max(probs[k])) == labels[k])
    assert (summary.total, summary.accepted, summary.low_confidence, summary.errored) == \
        (len(staged.keys), len(accepted), len(staged.keys) - len(accepted), 0)
    assert summary.labelled == len(accepted) and summary.correct == correct
    assert summary.executions_per_second > 0
    assert json.loads(json.dumps(summary.to_json()))["succeeded"] == len(accepted)


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
def test_recorded_aws_definition_runs_unchanged(shared_data: Path, staged: Staged, endpoint: str,
                                                 isolated: bool) -> None:
    definition_file = shared_data / RECORDED
    with local_pipeline(staged.settings, options(endpoint, threshold=0.5, isolated=isolated,
                                                 definition=definition_file)) as pipeline:
        outcome = pipeline.run(pipeline.input_for(staged.keys[0]))
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)
    body = outcome.output["body"]
    assert body["s3_key"] == staged.keys[0] and len(body["inferences"]) == 2


def test_recorded_definition_low_confidence_ends_in_its_fail_state(shared_data: Path, staged: Staged,
                                                                   endpoint: str) -> None:
    with local_pipeline(staged.settings, options(endpoint, threshold=1.0,
                                                 definition=shared_data / RECORDED)) as pipeline:
        outcome, execution = pipeline.run_with_execution(pipeline.input_for(staged.keys[0]))
    assert outcome.status == "FAILED"
    assert outcome.error is None  # the console's empty Fail state names no error...
    assert outcome.task_error == "ThresholdConfidenceNotMet"  # ...but the caught Task failure does
    assert outcome.outcome is Outcome.LOW_CONFIDENCE


def test_batch_definition_map_tolerates_and_reports(staged: Staged, endpoint: str) -> None:
    from scones.functions.local import scones_functions
    from scones.lambda_runtime.runtime import LocalLambdaRuntime
    from scones.workflow.asl import run_execution
    from scones.workflow.asl.clock import SystemClock

    probs = expected(staged, endpoint)
    threshold = split_threshold(probs)
    keys = staged.keys + ["dataset/test/missing.png"]
    functions = scones_functions(store_root=staged.root, endpoint_url=endpoint, endpoint_name=ENDPOINT_NAME,
                                 threshold=threshold)
    with LocalLambdaRuntime(functions) as runtime:
        execution = run_execution(load_definition("scones-batch"), {"s3_bucket": "scones", "keys": keys},
                                  invoker=runtime, clock=SystemClock())
    assert str(getattr(execution.status, "value", execution.status)) == "SUCCEEDED", (execution.error,
                                                                                      execution.cause)
    output = execution.output
    assert output["count"] == len(keys)
    by_key = {r["s3_key"]: r for r in output["results"]}
    for key, p in probs.items():
        assert by_key[key]["status"] == ("ACCEPTED" if max(p) >= threshold else "LOW_CONFIDENCE")
        assert by_key[key]["inferences"] == pytest.approx(p, abs=1e-6)
    assert by_key["dataset/test/missing.png"]["status"] == "ERROR"
    assert by_key["dataset/test/missing.png"]["error"] == "ObjectNotFound"


def test_endpoint_started_on_demand_from_the_store_model(staged: Staged, tiny_model_path: Path) -> None:
    model = staged.settings.store_root / "scones" / "model" / "model.tar.gz"
    model.parent.mkdir(parents=True)
    model.write_bytes(tiny_model_path.read_bytes())
    with local_pipeline(staged.settings, PipelineOptions(threshold=0.5)) as pipeline:
        outcome = pipeline.run(pipeline.input_for(staged.keys[0]))
    assert outcome.status == "SUCCEEDED", (outcome.error, outcome.cause)


def test_no_model_no_endpoint_is_a_clear_error(staged: Staged) -> None:
    from scones.errors import NotFoundError

    with pytest.raises(NotFoundError, match="scones train"):
        with local_pipeline(staged.settings, PipelineOptions()):
            pass


def test_contract_check_on_clean_and_broken_functions(staged: Staged, endpoint: str) -> None:
    from scones.executions import ExecutionService
    from scones.functions.local import scones_functions
    from scones.lambda_runtime.function import FunctionConfig
    from scones.lambda_runtime.runtime import LocalLambdaRuntime
    from scones.workflow.check import Kind, run_check
    from scones.workflow.notifications import StoreLogNotifier, failure_listener

    with local_pipeline(staged.settings, options(endpoint, threshold=0.5)) as pipeline:
        report = run_check(pipeline, pipeline.input_for(staged.keys[0]))
    assert report.ok, report.format_text()
    assert [s.state for s in report.steps] == ["SerializeImageData", "ClassifyImage", "FilterInferences"]
    assert report.steps[0].to_json()["returned"].startswith('{"statusCode": int, "body": {"image_data": str')

    def classic_serialize(event: Any, context: Any) -> Any:  # the classic bug: bytes, not str
        import base64

        data = (staged.root / "scones" / event["s3_key"]).read_bytes()
        return {"statusCode": 200, "body": {"image_data": base64.b64encode(data), "s3_bucket": event["s3_bucket"],
                                            "s3_key": event["s3_key"], "inferences": []}}

    functions = [f if f.name != "serializeImageData" else FunctionConfig(f.name, classic_serialize)
                 for f in scones_functions(store_root=staged.root, endpoint_url=endpoint,
                                           endpoint_name=ENDPOINT_NAME)]
    store = LocalStore.in_bucket(staged.settings.store_root, staged.settings.bucket)
    with LocalLambdaRuntime(functions) as runtime, \
            ExecutionService(invoker=runtime, listeners=[failure_listener(lambda: StoreLogNotifier(store))]) as service:
        service.register("scones", load_definition())
        broken = LocalPipeline(service, "scones", bucket="scones")
        report = run_check(broken, broken.input_for(staged.keys[0]))
    assert not report.ok
    assert Kind.NOT_JSON_NATIVE in [f.kind for f in report.findings]
    assert "Runtime.MarshalError" in report.outcome.error if report.outcome.error else False


def test_function_timeout_fails_the_task_as_lambda_unknown(staged: Staged) -> None:
    import time as _time

    from scones.lambda_runtime.function import FunctionConfig
    from scones.lambda_runtime.runtime import LocalLambdaRuntime
    from scones.workflow.asl import run_execution

    def slow(event: Any, context: Any) -> Any:
        end = _time.monotonic() + 2
        while _time.monotonic() < end:  # Python-level waiting: the runtime stops it at the timeout
            _time.sleep(0.01)
        return event

    definition = {"StartAt": "Slow", "States": {"Slow": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
        "Parameters": {"FunctionName": "slow", "Payload.$": "$"}, "End": True}}}
    with LocalLambdaRuntime([FunctionConfig("slow", slow, timeout_seconds=0.2)]) as runtime:
        execution = run_execution(definition, {"a": 1}, invoker=runtime)
    assert execution.status.value == "FAILED"
    assert execution.error == "Lambda.Unknown"
    assert "Task timed out after 0.20 seconds" in (execution.cause or "")


def test_histories_are_kept_for_every_execution_of_a_batch(staged: Staged, endpoint: str) -> None:
    from scones.workflow.asl.errors import InputError
    from scones.workflow.asl.executor import load_execution

    executions = LocalStore.in_bucket(staged.settings.store_root, staged.settings.bucket).child("executions")
    with local_pipeline(staged.settings, options(endpoint)) as pipeline:
        outcomes, _ = pipeline.run_many([pipeline.input_for(k) for k in staged.keys], concurrency=4)
        # run_many returns only once every history is on disk
        names = sorted(k.removesuffix(".json") for k in executions.list(""))
        assert names == sorted(o.name for o in outcomes)
        pipeline.run(pipeline.input_for(staged.keys[0]), name="named-once")
        with pytest.raises(InputError, match="Execution Already Exists"):
            pipeline.run(pipeline.input_for(staged.keys[0]), name="named-once")
    for outcome in outcomes:
        kept = load_execution(executions, outcome.name)
        assert kept.status.value == outcome.status
        assert kept.input == outcome.input
    assert not [p for p in executions.base.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_history_write_failure_is_reported_not_swallowed(staged: Staged, endpoint: str) -> None:
    from scones.errors import WorkflowError
    from scones.executions import ExecutionRecords

    with local_pipeline(staged.settings, options(endpoint, keep_history=False)) as pipeline:
        _, execution = pipeline.run_with_execution(pipeline.input_for(staged.keys[0]))
    folder = staged.settings.store_root / "kept"
    writer = ExecutionRecords(LocalStore(folder))
    folder.rmdir()
    folder.write_text("a file where the executions folder was")  # every write now fails
    writer.submit(execution)
    with pytest.raises(WorkflowError, match="Could not keep an execution history"):
        writer.close()


@pytest.mark.parametrize(("url", "message"), [
    ("127.0.0.1:8080", "is not an http"),
    ("notaurl", "is not an http"),
    ("http://", "is not an http"),
    ("http://127.0.0.1:99999", "is not a valid URL"),
    ("ftp://127.0.0.1:21", "is not an http"),
])
def test_endpoint_url_must_be_an_http_url(url: str, message: str) -> None:
    from scones.errors import UsageError
    from scones.workflow.environment import check_endpoint_reachable

    with pytest.raises(UsageError, match=message):
        check_endpoint_reachable(url)


def test_endpoint_url_with_nothing_listening_fails_before_any_execution() -> None:
    import socket

    from scones.errors import WorkflowError
    from scones.workflow.environment import check_endpoint_reachable

    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WorkflowError, match=rf"No endpoint answers at http://127.0.0.1:{port} \(Connection refused\)"):
        check_endpoint_reachable(f"http://127.0.0.1:{port}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        check_endpoint_reachable(f"http://127.0.0.1:{sock.getsockname()[1]}")


def test_an_interrupted_batch_starts_nothing_new_and_reports_what_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C used to let every queued execution run to the end, then exit without a summary."""
    import threading
    import time
    from concurrent.futures import as_completed

    import scones.workflow.pipeline as pipeline_module
    from scones.workflow.pipeline import BatchInterrupted, LocalPipeline

    ran: list[int] = []
    lock = threading.Lock()

    class Fake:
        class service:
            records = None

            @staticmethod
            def flush() -> None:
                pass

        def run(self, item: int) -> int:
            with lock:
                ran.append(item)
            time.sleep(0.05)
            return item

    def interrupted_after_three(futures: object) -> object:
        for count, future in enumerate(as_completed(futures), start=1):  # type: ignore[arg-type]
            yield future
            if count == 3:
                raise KeyboardInterrupt  # Ctrl-C arrives while the main thread waits for results

    monkeypatch.setattr(pipeline_module, "as_completed", interrupted_after_three)
    with pytest.raises(BatchInterrupted) as exc:
        LocalPipeline.run_many(Fake(), list(range(100)), concurrency=2)  # type: ignore[arg-type]
    stop = exc.value
    assert len(ran) < 10  # the queued ones were cancelled
    assert sorted(stop.outcomes) == sorted(ran)  # those in flight finished and are reported
    assert stop.not_started == 100 - len(ran) and stop.exit_code == 130


def test_an_execution_name_is_claimed_before_the_run(tmp_path: Path) -> None:
    """Two runs started at once with the same --name: one gets 'Execution Already Exists'."""
    from scones.executions import ExecutionRecords

    first, second = ExecutionRecords(LocalStore(tmp_path)), ExecutionRecords(LocalStore(tmp_path))  # two processes
    assert first.reserve("dup") is True
    assert second.reserve("dup") is False  # running now
    first.release("dup")
    assert second.reserve("dup") is True  # the first run ended without a record: the name is free again


def test_shipped_definitions_are_not_shadowed_by_the_current_folder(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the parent of a checkout named 'scones', the default definition used to be that folder."""
    (tmp_path / "scones").mkdir()
    (tmp_path / "scones-batch").write_text("not json")
    monkeypatch.chdir(tmp_path)
    assert load_definition("scones")["StartAt"] and load_definition("scones-batch")["StartAt"]
    (tmp_path / "mine.asl.json").write_text('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    assert load_definition("mine.asl.json")["StartAt"] == "P"  # a file here is still read by its name
