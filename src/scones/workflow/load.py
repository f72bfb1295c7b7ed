"""A steady stream of executions: the classic project's "continuous stream" stretch goal, bounded.

Open loop: execution ``i`` is due at ``start + i / rate`` whether or not earlier
ones have finished, and its latency is measured from when it was due, so a
slow workflow shows up as latency instead of silently lowering the rate. At
most ``max_in_flight`` executions run at once; a due execution beyond that is
counted as ``skipped`` rather than queued without bound.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from scones.errors import UsageError
from scones.progress import progress
from scones.workflow.outcomes import ExecutionOutcome, Outcome, latency_percentiles
from scones.workflow.pipeline import LocalPipeline

MAX_RATE: Final = 1000.0
MAX_DURATION: Final = 3600.0
LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP address (``127.0.0.0/8``, ``::1``); ``127.0.0.1.example.com`` is not."""
    import ipaddress

    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_loopback(endpoint_url: str | None) -> None:
    """A load stream only ever targets this machine (an endpoint started on demand, or one on loopback)."""
    if not endpoint_url:
        return
    from urllib.parse import urlparse

    host = urlparse(endpoint_url).hostname or ""
    if not is_loopback_host(host):
        raise UsageError(f"scones load streams to this machine only; {endpoint_url} is not a loopback address",
                         hint="start 'scones serve' locally, or leave out --endpoint-url to start one on demand")


@dataclass(frozen=True)
class LoadReport:
    rate: float
    duration: float
    due: int
    completed: int
    skipped: int
    accepted: int
    low_confidence: int
    errored: int
    elapsed: float
    latencies: tuple[float, ...]
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def achieved_rate(self) -> float:
        """Completed executions per second over the asked duration (or longer, when a backlog ran
        past it): the stream ends early once its last start has finished, and dividing by that
        shorter time would show more than the rate offered."""
        span = max(self.elapsed, self.duration)
        return self.completed / span if span > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "duration": self.duration, "due": self.due, "completed": self.completed,
                "skipped": self.skipped, "succeeded": self.accepted, "low_confidence": self.low_confidence,
                "errored": self.errored, "errors": dict(self.errors), "achieved_rate": round(self.achieved_rate, 2),
                "elapsed": round(self.elapsed, 3), "latency_ms": latency_percentiles(self.latencies)}

    def format_text(self) -> str:
        pct = latency_percentiles(self.latencies)
        return "\n".join([
            f"rate:        {self.rate:g}/s for {self.duration:g} s ({self.due} due, {self.skipped} skipped)",
            f"completed:   {self.completed} in {self.elapsed:.2f} s ({self.achieved_rate:.1f}/s)",
            f"outcomes:    {self.accepted} succeeded, {self.low_confidence} low confidence, {self.errored} errored"
            + (f" {dict(self.errors)}" if self.errors else ""),
            "latency ms:  " + (", ".join(f"{k} {v:.1f}" for k, v in pct.items()) if pct else "n/a"),
        ])


def run_load(pipeline: LocalPipeline, keys: Sequence[str], *, rate: float, duration: float,
             max_in_flight: int = 64, seed: int = 0, show_progress: bool = False) -> LoadReport:
    if not 0 < rate <= MAX_RATE:
        raise UsageError(f"--rate must be in (0, {MAX_RATE:g}] executions per second, got {rate:g}")
    if not 0 < duration <= MAX_DURATION:
        raise UsageError(f"--duration must be in (0, {MAX_DURATION:g}] seconds, got {duration:g}")
    if not keys:
        raise UsageError("no images to stream")
    rng = random.Random(seed)
    choices = list(keys)
    due = max(1, int(rate * duration))
    lock = threading.Lock()
    in_flight = 0
    skipped = 0
    results: list[tuple[ExecutionOutcome, float]] = []

    def one(key: str, due_at: float) -> None:
        nonlocal in_flight
        try:
            outcome = pipeline.run(pipeline.input_for(key))
            with lock:
                results.append((outcome, time.perf_counter() - due_at))
        finally:
            with lock:
                in_flight -= 1

    futures: list[Future[None]] = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="scones-load") as pool, \
            progress(total=due, enabled=show_progress, desc="load", unit="exec") as bar:
        for i in range(due):
            due_at = start + i / rate
            pause = due_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            with lock:
                full = in_flight >= max_in_flight
                if not full:
                    in_flight += 1
            if full:
                skipped += 1
            else:
                futures.append(pool.submit(one, rng.choice(choices), due_at))
            bar.update(1)
        for future in futures:
            future.result()
    elapsed = time.perf_counter() - start
    counts = {o: sum(1 for r, _ in results if r.outcome is o) for o in Outcome}
    errors = Counter(r.error or "unknown" for r, _ in results if r.outcome is Outcome.ERRORED)
    return LoadReport(rate=rate, duration=duration, due=due, completed=len(results), skipped=skipped,
                      accepted=counts[Outcome.ACCEPTED], low_confidence=counts[Outcome.LOW_CONFIDENCE],
                      errored=counts[Outcome.ERRORED], elapsed=elapsed,
                      latencies=tuple(latency for _, latency in results), errors=dict(errors))
