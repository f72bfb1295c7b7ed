"""How fast `scones data stage` stages the 1200-row shared archive (target: under 2 s).

Stages the archive into a fresh temporary store with one worker and with one
worker per core, side by side in one run, best of a few runs each, and prints
the times, the parallel speed-up and the fraction of the 2 s budget used.

    python benchmarks/stage_speed.py [ARCHIVE]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _shared import SHARED_DATA
from scones.data.stage import stage_dataset

TARGET_SECONDS = 2.0
RUNS = 3


def _archive() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return SHARED_DATA / "cifar-100-python-bicycle-motorcycle.tar.gz"


def _best(archive: Path, workers: int, root: Path) -> tuple[float, list[float], int]:
    times, images = [], 0
    for run in range(RUNS):
        dest = root / f"w{workers}-{run}"
        started = time.perf_counter()
        result = stage_dataset(archive, dest, cache_dir=root / "cache", show_progress=False, workers=workers)
        times.append(time.perf_counter() - started)
        images = result.images
    return min(times), times, images


def main() -> int:
    archive = _archive()
    if not archive.is_file():
        print(f"no archive at {archive}; pass one as the first argument or set SCONES_SHARED_DATA", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="scones-bench-") as tmp:
        serial, serial_runs, images = _best(archive, 1, Path(tmp))
        parallel, parallel_runs, _ = _best(archive, cores, Path(tmp))
    print(f"stage {images} images from {archive.name} (best of {RUNS}; {cores} cores)")
    print(f"  1 worker:   {serial:.3f} s   runs {', '.join(f'{t:.3f}' for t in serial_runs)}")
    print(f"  {cores} workers:  {parallel:.3f} s   runs {', '.join(f'{t:.3f}' for t in parallel_runs)}")
    print(f"  parallel speed-up: {serial / parallel:.2f}x")
    verdict = "OK" if parallel < TARGET_SECONDS else "TOO SLOW"
    print(f"  target < {TARGET_SECONDS:.1f} s: {verdict} ({parallel / TARGET_SECONDS:.2f} of the budget)")
    return 0 if parallel < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
