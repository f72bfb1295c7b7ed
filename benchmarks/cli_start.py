"""Cold start of ``scones workflow run`` for a one-state Pass machine, beside a bare interpreter start.

Scripts call ``scones workflow run`` thousands of times, so its start-up is a
feature: it must not import torch, onnxruntime, boto3 or the Lambda runtime for a
definition that calls no function. Each command is started ``--repeat`` times,
alternating, and the best and median wall times are printed with their
difference (what scones adds over ``python -c pass``, measured side by side).

Target (issue 15): <= 0.15 s for the Pass machine.

    python benchmarks/cli_start.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and the child's CPU time (user + system): the CPU figure is steadier on a noisy VM."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    scones = Path(sys.executable).with_name("scones")
    with tempfile.TemporaryDirectory(prefix="scones-start-") as tmp:
        definition = Path(tmp) / "pass.asl.json"
        definition.write_text(json.dumps(PASS), encoding="utf-8")
        # A user's Python caches bytecode; a shell with PYTHONDONTWRITEBYTECODE would time compiling instead.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["SCONES_HOME"] = str(Path(tmp) / "home")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "scones --version": [str(scones), "--version"],
            "scones workflow run (Pass)": [str(scones), "workflow", "run", "--definition", str(definition),
                                           "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the file cache once
            timed(command, env)
        for _ in range(args.repeat):
            for name, command in commands.items():
                wall, used = timed(command, env)
                times[name].append(wall)
                cpu[name].append(used)
    base = min(times["python -c pass"])
    for name, values in times.items():
        print(f"{name:30} best {min(values) * 1000:7.1f} ms  median {statistics.median(values) * 1000:7.1f} ms  "
              f"(+{(min(values) - base) * 1000:.1f} ms over python)  "
              f"CPU median {statistics.median(cpu[name]) * 1000:6.1f} ms")
    run = min(times["scones workflow run (Pass)"])
    print(f"workflow run cold start: {run:.3f} s (target <= 0.15 s: {'met' if run <= 0.15 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
