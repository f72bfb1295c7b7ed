"""Benchmark: the full monitoring report over 100,000 captured records.

Generates 100,000 Data Capture records in SageMaker's format (base64 32x32 PNG
inputs from the CIFAR-100 subset when it is present, else random PNGs; JSON
probability outputs from a real ONNX model; spread over 6 hours in files rotated
as the endpoint rotates them, every 60 s or 4 MiB), builds a baseline, then runs
``scones monitor report`` as a separate process and measures its wall time, the
CPU seconds it and its workers used, and its peak memory (the RSS of the process
and its workers, sampled together). It runs once with the default workers (all
CPUs) and once with one worker, side by side. The machine's load average is
printed too: on a shared machine the wall time depends on it, the CPU time much less.

Targets (issue 7, 2 cores): <= 15 s and <= 1 GiB.

    PYTHONPATH=src python benchmarks/monitor_scale.py [--records 100000] [--keep DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _shared import CIFAR_FOLDER, REPO, test_pngs

TARGET_S = 15.0
TARGET_BYTES = 1024 ** 3


def generate(root: Path, records: int) -> tuple[Path, Path, int]:
    from scones.model_artifact import write_model_tarball
    from scones.monitor.baseline import Classifier
    from scones.monitor.features import decode_image
    from scones.monitor.simulate import make_record, spread, write_capture
    from scones.testing import make_tiny_model

    model = make_tiny_model()
    model_path = write_model_tarball(root / "model" / "model.tar.gz", model.onnx_bytes, model.spec)
    images = test_pngs()
    probs = Classifier(model).predict([decode_image(b) for b in images])
    rng = random.Random(7)
    times = spread(records, datetime(2025, 10, 4, 8, 0, tzinfo=UTC), timedelta(hours=6))
    chosen = (rng.randrange(len(images)) for _ in range(records))
    capture = root / "data_capture"
    files = write_capture(capture, (make_record(images[i], probs[i], t) for i, t in zip(chosen, times, strict=True)),
                          rotate_seconds=60)  # the endpoint's rotation: 60 s or 4 MiB
    return capture, model_path, len(files)


def _tree_rss(pid: int) -> int:
    """RSS in bytes of ``pid`` and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_report(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (the process and its workers), peak tree RSS, first output line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"report failed ({proc.returncode}):\n{out}\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, peak, out.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the generated capture and reports here")
    parser.add_argument("--reuse", action="store_true", help="with --keep: reuse a capture generated there before")
    opts = parser.parse_args()
    if opts.reuse and opts.keep is None:
        parser.error("--reuse needs --keep DIR")
    root = opts.keep or Path(tempfile.mkdtemp(prefix="scones-monitor-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        if opts.reuse and (root / "data_capture").is_dir():
            capture, model_path = root / "data_capture", root / "model" / "model.tar.gz"
            n_files = sum(1 for _ in capture.rglob("*.jsonl"))
            opts.records = sum(sum(1 for _ in p.open("rb")) for p in capture.rglob("*.jsonl"))
        else:
            capture, model_path, n_files = generate(root, opts.records)
        size = sum(p.stat().st_size for p in capture.rglob("*.jsonl"))
        print(f"{'reused' if opts.reuse else 'generated'} {opts.records:,} records in {n_files} files "
              f"({size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               "SCONES_HOME": str(root / "home"), "SCONES_PROGRESS": "false"}
        data = CIFAR_FOLDER
        if data.is_dir():
            subprocess.run([sys.executable, "-m", "scones", "monitor", "baseline", "--model", str(model_path),
                            "--data", str(data), "--out", str(root / "baseline")], env=env, check=True,
                           capture_output=True)
            baseline = ["--baseline", str(root / "baseline")]
        else:
            baseline = []
        rows = []
        for label, workers in (("default workers", []), ("1 worker", ["--workers", "1"])):
            cmd = [sys.executable, "-m", "scones", "monitor", "report", "--capture", str(capture),
                   "--out", str(root / f"report-{len(rows)}"), *baseline, *workers]
            load = os.getloadavg()[0]
            elapsed, cpu, peak, line = run_report(cmd, env)
            rows.append((label, elapsed, peak))
            print(f"{label:>16}: {elapsed:6.2f} s wall, {cpu:6.2f} s CPU, peak RSS {peak / 2**20:5.0f} MiB, "
                  f"load average before {load:.1f}   ({line})")
        best_t, best_m = rows[0][1], rows[0][2]
        print(f"cpus={os.cpu_count()} records={opts.records:,}")
        print(f"time  {best_t:.2f} s / target {TARGET_S:.0f} s = {best_t / TARGET_S:.2f} "
              f"({'OK' if best_t <= TARGET_S else 'OVER'})")
        print(f"peak  {best_m / 2**20:.0f} MiB / target 1024 MiB = {best_m / TARGET_BYTES:.2f} "
              f"({'OK' if best_m <= TARGET_BYTES else 'OVER'})")
        print(f"speed-up of default workers over 1 worker: {rows[1][1] / rows[0][1]:.2f}x; "
              f"throughput {opts.records / best_t:,.0f} records/s")
    finally:
        if opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
