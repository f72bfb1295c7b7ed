from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import numpy as np
import pytest

from scones.serve.batching import BatcherClosed, MicroBatcher


class Recorder:
    """A model that returns each image's id and records the batch sizes it ran."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.sizes: list[int] = []
        self.gate = gate

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if self.gate is not None:
            self.gate.wait(10)
        self.sizes.append(int(pixels.shape[0]))
        return pixels[:, 0, 0, :1].astype(np.float32)


def images(ids: list[int]) -> np.ndarray:
    out = np.zeros((len(ids), 2, 2, 3), dtype=np.uint8)
    out[:, 0, 0, 0] = ids
    return out


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_concurrent_requests_share_batches_and_get_their_own_rows() -> None:
    gate = threading.Event()
    model = Recorder(gate)

    async def main() -> list[np.ndarray]:
        batcher = MicroBatcher(model, max_batch_size=8, max_wait=0.01)
        await batcher.start()
        first = asyncio.ensure_future(batcher.submit(images([0])))
        await asyncio.sleep(0.05)  # the first batch is running (held by the gate); the rest queue up
        rest = [asyncio.ensure_future(batcher.submit(images([i, i + 100] if i == 5 else [i]))) for i in range(1, 12)]
        await asyncio.sleep(0.05)
        gate.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results

    results = run(main())
    assert [r[:, 0].tolist() for r in results] == [[i] if i != 5 else [5, 100 + 5] for i in range(12)]
    assert model.sizes[0] == 1 and max(model.sizes) <= 8 and sum(model.sizes) == 13
    assert len(model.sizes) <= 3  # 12 queued images ran in full batches, not one by one


def test_stop_finishes_queued_work_then_refuses() -> None:
    model = Recorder()

    async def main() -> None:
        batcher = MicroBatcher(model, max_batch_size=4, max_wait=0.5)
        await batcher.start()
        pending = [asyncio.ensure_future(batcher.submit(images([i]))) for i in range(6)]
        await asyncio.sleep(0)
        await batcher.stop()
        assert [p.result()[0, 0] for p in pending] == list(range(6))
        with pytest.raises(BatcherClosed):
            await batcher.submit(images([1]))

    run(main())


def test_a_failing_model_fails_only_its_batch() -> None:
    calls = {"n": 0}

    def flaky(pixels: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return pixels[:, 0, 0, :1].astype(np.float32)

    async def main() -> None:
        batcher = MicroBatcher(flaky, max_batch_size=4, max_wait=0)
        await batcher.start()
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.submit(images([1]))
        assert (await batcher.submit(images([2])))[0, 0] == 2
        await batcher.stop()

    run(main())


def test_oversized_request_runs_alone() -> None:
    model = Recorder()

    async def main() -> np.ndarray:
        batcher = MicroBatcher(model, max_batch_size=2, max_wait=0)
        await batcher.start()
        out = await batcher.submit(images([1, 2, 3, 4, 5]))
        await batcher.stop()
        return out

    assert run(main())[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert model.sizes == [5]


def test_a_lone_request_does_not_wait_for_company() -> None:
    model = Recorder()

    async def main() -> None:
        batcher = MicroBatcher(model, max_batch_size=8, max_wait=60, more_coming=lambda: False)
        await batcher.start()
        # With nobody else on the way the batch runs at once; waiting max_wait would hit this timeout.
        out = await asyncio.wait_for(batcher.submit(images([3])), 10)
        assert out[0, 0] == 3
        await batcher.stop()

    run(main())


@pytest.mark.parametrize("parallel", [1, 2])
def test_parallel_runs_overlap_and_stop_finishes_them(parallel: int) -> None:
    # Each run waits until `parallel` runs are inside the model at once: only a batcher that
    # really runs that many batches side by side gets past the barrier.
    barrier = threading.Barrier(parallel, timeout=10)
    sizes: list[int] = []

    def model(pixels: np.ndarray) -> np.ndarray:
        barrier.wait()
        sizes.append(int(pixels.shape[0]))
        return pixels[:, 0, 0, :1].astype(np.float32)

    async def main() -> list[np.ndarray]:
        batcher = MicroBatcher(model, max_batch_size=1, max_wait=0, parallel=parallel)
        await batcher.start()
        pending = [asyncio.ensure_future(batcher.submit(images([i]))) for i in range(2 * parallel)]
        await asyncio.sleep(0)
        await batcher.stop()  # finishes every submitted request, also those still running
        return [p.result() for p in pending]

    outs = run(main())
    assert [o[0, 0] for o in outs] == list(range(2 * parallel))
    assert sizes == [1] * (2 * parallel)


def test_submit_times_out_when_the_model_does_not_answer() -> None:
    gate = threading.Event()

    async def main() -> None:
        batcher = MicroBatcher(Recorder(gate), max_batch_size=1, max_wait=0)
        await batcher.start()
        with pytest.raises(TimeoutError):
            await batcher.submit(images([1]), timeout=0.05)
        gate.set()
        await batcher.stop()

    run(main())


def test_parallel_must_be_positive() -> None:
    with pytest.raises(ValueError, match="parallel"):
        MicroBatcher(Recorder(), parallel=0)


def test_a_batch_that_cannot_be_assembled_fails_its_requests_not_the_thread() -> None:
    model = Recorder()

    async def main() -> None:
        # more_coming keeps the thread gathering, so both requests land in one batch.
        batcher = MicroBatcher(model, max_batch_size=4, max_wait=0.2, more_coming=lambda: True)
        await batcher.start()
        odd = np.zeros((1, 3, 3, 3), dtype=np.uint8)  # another image size: np.concatenate refuses the batch
        results = await asyncio.gather(batcher.submit(images([1])), batcher.submit(odd), return_exceptions=True)
        assert all(isinstance(r, ValueError) for r in results)
        assert (await batcher.submit(images([7])))[0, 0] == 7  # the model thread is still serving
        await batcher.stop()

    run(main())
