"""Workflow throughput: ``run-batch`` over the 200 test images vs the endpoint's own raw throughput, one run.

Both are measured against the same live ``scones serve`` (a child process), with
the same client concurrency, back to back:

1. raw endpoint: every test image sent straight to ``invoke_endpoint`` (boto3);
2. workflow: one Scones state machine execution per image (serialize -> classify
   -> filter through the local Lambda runtime), exactly what ``scones workflow
   run-batch`` does.

Targets (2 cores): >= 100 executions/s (issue 6); >= 0.8 x the raw endpoint rate, or the CPU per
execution beyond the endpoint call (execution CPU minus a raw invoke_endpoint's) <= 1.0 ms (issue 15).

    PYTHONPATH=src .venv/bin/python benchmarks/workflow_throughput.py [--model model.tar.gz] [--concurrency 16]

Without ``--model`` it serves the trained model of the store
(``$SCONES_HOME/store/<bucket>/model/model.tar.gz``, what ``scones train`` writes)
and falls back to the tiny ONNX test model. The tiny model answers in
microseconds, so against it the ratio measures the workflow's own per-execution
CPU (interpreter, three invocations, history) against a bare ``invoke_endpoint``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _shared import CIFAR_FOLDER as TEST_SET


def stage_test_set(store_root: Path, bucket: str) -> list[str]:
    dest = store_root / bucket / "dataset"
    (dest / "test").mkdir(parents=True, exist_ok=True)
    for png in sorted((TEST_SET / "test").glob("*.png")):
        shutil.copyfile(png, dest / "test" / png.name)
    shutil.copyfile(TEST_SET / "test.lst", dest / "test.lst")
    return sorted(f"dataset/test/{p.name}" for p in (dest / "test").glob("*.png"))


def raw_endpoint_rate(url: str, images: list[bytes], concurrency: int, endpoint_name: str) -> tuple[float, float]:
    """Requests per second, and this process's CPU milliseconds per request."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "sagemaker-runtime", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
        aws_secret_access_key="y", config=Config(max_pool_connections=64))

    def call(image: bytes) -> None:
        client.invoke_endpoint(EndpointName=endpoint_name, ContentType="image/png", Body=image)["Body"].read()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, images[:8]))  # warm connections
        started, cpu = time.perf_counter(), time.process_time()
        list(pool.map(call, images))
        return (len(images) / (time.perf_counter() - started),
                (time.process_time() - cpu) * 1000 / len(images))


def timed_batch(pipeline: Any, keys: list[str], concurrency: int, labels: dict[str, int]) -> tuple[Any, float]:
    """``run_batch`` and this process's CPU milliseconds per execution (the endpoint is another process)."""
    cpu = time.process_time()
    summary = pipeline.run_batch(keys, concurrency=concurrency, labels=labels)
    return summary, (time.process_time() - cpu) * 1000 / len(keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model.tar.gz to serve (default: the store's trained model, else the tiny "
                                        "ONNX test model)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--isolated", action="store_true", help="run the functions from their zips")
    parser.add_argument("--repeat", type=int, default=1,
                        help="pass over the test images this many times in each measurement (longer, steadier "
                             "windows on a busy machine; default 1 = the 200 images once)")
    parser.add_argument("--strict-timeouts", action="store_true",
                        help="in-process handlers on their own threads (timeouts on time even in C calls)")
    args = parser.parse_args()
    if not TEST_SET.is_dir():
        print(f"skipped: the test set is not at {TEST_SET} (set SCONES_SHARED_DATA)")
        return 0

    from scones.config import Settings
    from scones.serve import running_endpoint
    from scones.store import LocalStore
    from scones.testing import tiny_model_tarball
    from scones.workflow.environment import PipelineOptions
    from scones.workflow.outcomes import load_labels
    from scones.workflow.pipeline import local_pipeline

    with tempfile.TemporaryDirectory(prefix="scones-bench-") as tmp:
        settings = Settings(home=Path(tmp) / "home", progress=False)
        keys = stage_test_set(settings.store_root, settings.bucket)
        model = args.model
        trained = Settings.from_env().store_root / settings.bucket / "model" / "model.tar.gz"
        if model is None and trained.is_file():
            model = str(trained)
        if model is None:
            model = str(Path(tmp) / "model.tar.gz")
            Path(model).write_bytes(tiny_model_tarball())
            print("model: the tiny ONNX test model (no trained model in the store)")
        else:
            print(f"model: {model}")
        store = LocalStore.in_bucket(settings.store_root, settings.bucket)
        labels = load_labels(store, keys)
        images = [store.get_bytes(k) for k in keys] * args.repeat
        batch = keys * args.repeat
        with running_endpoint(model, endpoint_name="scones-endpoint", subprocess=True) as endpoint:
            raw_before, raw_cpu_before = raw_endpoint_rate(endpoint.url, images, args.concurrency, "scones-endpoint")
            common: dict[str, Any] = {"endpoint_url": endpoint.url, "isolated": args.isolated}
            if args.strict_timeouts:
                common["strict_timeouts"] = True
            if args.isolated:  # one worker per concurrent invocation, as run-batch --isolated does
                common["function_concurrency"] = args.concurrency
            with local_pipeline(settings, PipelineOptions(**common)) as pipeline:
                pipeline.run_batch(keys[:16], concurrency=args.concurrency)  # warm: imports, clients, workers
                summary, cpu_history = timed_batch(pipeline, batch, args.concurrency, labels)
            with local_pipeline(settings, PipelineOptions(**common, keep_history=False)) as pipeline:
                pipeline.run_batch(keys[:16], concurrency=args.concurrency)
                no_history, cpu_no_history = timed_batch(pipeline, batch, args.concurrency, labels)
            raw_after, raw_cpu_after = raw_endpoint_rate(endpoint.url, images, args.concurrency, "scones-endpoint")
    raw = (raw_before + raw_after) / 2
    raw_cpu = (raw_cpu_before + raw_cpu_after) / 2
    ratio = summary.executions_per_second / raw
    print(summary.format_text())
    print(f"endpoint raw throughput: {raw:.1f} req/s (before {raw_before:.1f}, after {raw_after:.1f}; "
          f"concurrency {args.concurrency})")
    print(f"workflow executions/s:   {summary.executions_per_second:.1f}  (target >= 100: "
          f"{'met' if summary.executions_per_second >= 100 else 'NOT met'})")
    print(f"workflow / endpoint:     {ratio:.2f}  (target >= 0.8: {'met' if ratio >= 0.8 else 'NOT met'})")
    print(f"run-batch --no-history:  {no_history.executions_per_second:.1f} executions/s "
          f"({no_history.executions_per_second / raw:.2f} x endpoint)")
    print(f"client CPU ms per item:  invoke_endpoint {raw_cpu:.2f}, execution {cpu_history:.2f} "
          f"(no history {cpu_no_history:.2f})")
    beyond, beyond_no_history = cpu_history - raw_cpu, cpu_no_history - raw_cpu
    print(f"CPU beyond the endpoint call: {beyond:.2f} ms per execution, {beyond_no_history:.2f} without history "
          f"(target <= 1.0: {'met' if beyond <= 1.0 else 'NOT met'})")
    print(json.dumps({"executions_per_second": round(summary.executions_per_second, 2),
                      "executions_per_second_no_history": round(no_history.executions_per_second, 2),
                      "endpoint_raw_per_second": round(raw, 2), "ratio": round(ratio, 3),
                      "cpu_ms_per_request_raw": round(raw_cpu, 3), "cpu_ms_per_execution": round(cpu_history, 3),
                      "cpu_ms_per_execution_no_history": round(cpu_no_history, 3),
                      "cpu_ms_beyond_endpoint": round(beyond, 3),
                      "cpu_ms_beyond_endpoint_no_history": round(beyond_no_history, 3),
                      "executions": summary.total, "errored": summary.errored,
                      "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
