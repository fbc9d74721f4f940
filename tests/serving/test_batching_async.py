"""Batching on the REST event loop: concurrent awaits merged into fewer calls on one worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pipelines.serving.batching import BatchOptions
from pipelines.serving.batching_async import AsyncBatcher
from pipelines.serving.codec import ApiError
from tests.serving.test_batching import two_versions


def doubler(calls: list[tuple[int, str]], fail_on_negative: bool = False) -> Callable[[Any], dict[str, np.ndarray]]:
    def fn(arrays: Any) -> dict[str, np.ndarray]:
        calls.append((len(arrays["x"]), threading.current_thread().name))
        if fail_on_negative and (arrays["x"] < 0).any():
            raise ValueError("negative input")
        return {"y": arrays["x"] * 2}

    return fn


def gather(batcher: AsyncBatcher, jobs: list[tuple[Any, dict[str, np.ndarray], Any]]) -> list[Any]:
    """Every ``(fn, arrays, group)`` awaited at once on a fresh loop; results or exceptions, in order."""

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(batcher.run("sig", fn, arrays, group=group) for fn, arrays, group in jobs), return_exceptions=True
        )

    return asyncio.run(main())


def test_concurrent_awaits_merge_on_a_worker_thread_and_each_gets_its_rows() -> None:
    batcher, calls = AsyncBatcher(BatchOptions(max_batch_size=64, batch_timeout_micros=200_000)), []
    fn = doubler(calls)
    results = gather(batcher, [(fn, {"x": np.full(1 + i % 3, float(i))}, None) for i in range(16)])
    assert sum(n for n, _ in calls) == sum(1 + i % 3 for i in range(16))  # every row ran exactly once
    assert len(calls) == 1, calls  # all came within the timeout: one call
    assert all(name.startswith("batching") for _, name in calls)  # not on the event loop's thread
    for i, out in enumerate(results):
        assert out["y"].tolist() == [2.0 * i] * (1 + i % 3)
    assert batcher.batch_sizes == [16]


def test_a_full_batch_goes_at_once_and_a_big_request_runs_alone() -> None:
    batcher, calls = AsyncBatcher(BatchOptions(max_batch_size=4, batch_timeout_micros=10_000_000)), []
    fn = doubler(calls)
    results = gather(
        batcher, [(fn, {"x": np.array([float(i)])}, None) for i in range(4)] + [(fn, {"x": np.ones(5)}, None)]
    )
    assert sorted(n for n, _ in calls) == [4, 5]  # no 10 s wait: four rows fill a batch; five run alone
    assert [r["y"].tolist() for r in results[:4]] == [[0.0], [2.0], [4.0], [6.0]]


def test_a_failing_merged_call_fails_only_the_caller_at_fault() -> None:
    batcher, calls = AsyncBatcher(BatchOptions(max_batch_size=64, batch_timeout_micros=100_000)), []
    fn = doubler(calls, fail_on_negative=True)
    results = gather(batcher, [(fn, {"x": np.array([-1.0 if i == 3 else i])}, None) for i in range(8)])
    assert isinstance(results[3], ValueError)
    assert [r["y"].tolist() for i, r in enumerate(results) if i != 3] == [[2.0 * i] for i in range(8) if i != 3]


def test_two_versions_share_a_queue_but_never_a_call() -> None:
    batcher, calls = AsyncBatcher(BatchOptions(max_batch_size=64, batch_timeout_micros=100_000)), []
    fns = two_versions(calls)
    results = gather(batcher, [(fns[i % 2], {"x": np.array([float(i)])}, i % 2) for i in range(12)])
    assert [r["y"].tolist() for r in results] == [[i * (2.0 if i % 2 == 0 else 3.0)] for i in range(12)]
    assert sorted(calls) == [(2.0, 6), (3.0, 6)]


def _one_slow_worker() -> tuple[AsyncBatcher, Callable[[Any], dict[str, np.ndarray]], threading.Event]:
    """A batcher with one worker, batches of 2 and room for one waiting batch, and a model call that
    holds its worker until the event is set (at most 10 s)."""
    release = threading.Event()

    def slow(arrays: Any) -> dict[str, np.ndarray]:
        release.wait(10)
        return {"y": arrays["x"]}

    options = BatchOptions(max_batch_size=2, batch_timeout_micros=0, max_enqueued_batches=1, num_batch_threads=1)
    return AsyncBatcher(options), slow, release


def test_a_full_queue_refuses_with_503_instead_of_waiting() -> None:
    batcher, slow, release = _one_slow_worker()
    x = {"x": np.array([1.0])}

    async def main() -> None:
        running = asyncio.ensure_future(batcher.run("sig", slow, x))  # on the one worker
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(batcher.run("sig", slow, x)) for _ in range(2)]  # one batch of two waits
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError, match=r"batch scheduling queue .* is full") as info:
            await batcher.run("sig", slow, x)
        assert info.value.status == 503
        release.set()
        await asyncio.gather(running, *queued)

    asyncio.run(main())


def test_requests_of_max_batch_size_or_more_count_against_the_queue_limit() -> None:
    batcher, slow, release = _one_slow_worker()
    big = {"x": np.ones(5)}  # over max_batch_size: runs alone, but waits in the queue like any batch

    async def main() -> None:
        running = asyncio.ensure_future(batcher.run("sig", slow, big))  # on the one worker
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(batcher.run("sig", slow, big))  # the one batch allowed to wait
        await asyncio.sleep(0.05)
        for _ in range(3):  # not queued without bound: refused at once
            with pytest.raises(ApiError, match=r"batch scheduling queue .* is full") as info:
                await asyncio.wait_for(batcher.run("sig", slow, big), 1)
            assert info.value.status == 503
        release.set()
        results = await asyncio.gather(running, queued)
        assert [r["y"].tolist() for r in results] == [[1.0] * 5] * 2

    asyncio.run(main())


def test_a_batcher_whose_event_loop_closed_serves_the_next_loop() -> None:
    release, calls = threading.Event(), []

    def fn(arrays: Any) -> dict[str, np.ndarray]:
        calls.append(len(arrays["x"]))
        if len(calls) == 1:
            release.wait(10)  # the first loop closes while this call is still running
        return {"y": arrays["x"] * 2}

    batcher = AsyncBatcher(BatchOptions(max_batch_size=4, batch_timeout_micros=0, num_batch_threads=1))
    x = {"x": np.array([1.0])}

    async def abandoned() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(batcher.run("sig", fn, x), 0.1)

    asyncio.run(abandoned())
    threading.Timer(0.3, release.set).start()  # the call finishes after its loop closed

    async def next_loop() -> Any:
        return await asyncio.wait_for(batcher.run("sig", fn, x), 5)

    try:
        assert asyncio.run(next_loop())["y"].tolist() == [2.0]
    finally:
        release.set()
    assert len(calls) == 2


def test_a_closed_batcher_answers_503_and_never_leaves_a_caller_waiting() -> None:
    batcher, calls = AsyncBatcher(BatchOptions(max_batch_size=4, batch_timeout_micros=1_000)), []
    fn = doubler(calls)
    batcher.pool.shutdown(wait=True)  # the pool is gone (the server stopping) while callers still queue
    results = asyncio.run(asyncio.wait_for(_all(batcher, fn, 3), timeout=5))  # a hang fails here
    assert all(isinstance(r, ApiError) and r.status == 503 for r in results) and calls == []
    batcher.close()
    later = gather(batcher, [(fn, {"x": np.ones(1)}, None)])
    assert isinstance(later[0], ApiError) and later[0].status == 503


async def _all(batcher: AsyncBatcher, fn: Any, count: int) -> list[Any]:
    runs = (batcher.run("sig", fn, {"x": np.ones(1)}) for _ in range(count))
    return await asyncio.gather(*runs, return_exceptions=True)
