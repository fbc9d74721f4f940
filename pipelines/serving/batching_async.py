"""Dynamic batching on the server's event loop: requests wait as futures, merged calls run off the loop.

    handlers (event loop: REST and gRPC)    one queue per (model, signature), loop-only state
      await run(key, fn, arrays) -------->  [req][req][req] ...   dispatched at the end of the loop's
        no thread hop per request            turn: a free worker takes what is queued at once
                                             (batch_timeout_micros 0) or once the first request has
                                             waited batch_timeout_micros or max_batch_size are queued
                                           ready batch -> a worker thread (at most num_batch_threads
                                             at once): concatenate, one fn call, split by rows;
                                             results handed back to the loop in one callback

With ``batch_timeout_micros: 0`` and ``num_batch_threads`` = cores (TF Serving's advice for CPUs)
an idle model answers a lone request at once, and requests accumulate only while every worker is
busy: batching without waiting for a timeout. The rules of :class:`pipelines.serving.batching.Batcher`
hold: requests merge only within a group (the loaded version) and with the same input names,
dtypes and per-row shapes; a request of ``max_batch_size`` rows or more runs alone (it still waits
in the queue and counts as one full batch); a failing merged call is retried request by request
so only the bad one gets the error; more than ``max_enqueued_batches`` full batches waiting is
refused with 503 rather than queued. A batcher used from a new event loop (the old one closed)
starts with fresh queues. :meth:`AsyncBatcher.close` stops its worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pipelines.serving.batching import Arrays, BatchOptions, Outputs, _concat, _rows, _shape_key, take_batch
from pipelines.serving.codec_base import ApiError

__all__ = ["AsyncBatcher"]


class _Task:
    __slots__ = ("arrays", "fn", "future", "rows", "shape_key", "time", "weight")

    def __init__(
        self, fn: Callable[[Arrays], Outputs], arrays: Arrays, rows: int, shape_key: Any, future: Any, weight: int
    ) -> None:
        self.fn, self.arrays, self.rows, self.shape_key, self.future = fn, arrays, rows, shape_key, future
        self.weight = weight  # rows counted against the queue's limit: a full batch at most
        self.time = time.monotonic()


def _run_batch(batch: list[_Task]) -> list[tuple[bool, Any]]:
    """``(ok, outputs or exception)`` per task; runs on a worker thread."""
    if len(batch) > 1:
        try:
            merged = {k: _concat([t.arrays[k] for t in batch]) for k in batch[0].arrays}
            outputs = batch[0].fn(merged)
            if any(o.ndim == 0 or o.shape[0] != sum(t.rows for t in batch) for o in outputs.values()):
                raise ValueError("an output has no batch dimension")
        except Exception:  # noqa: BLE001 - run each alone: only the request at fault gets an error
            pass
        else:
            results, start = [], 0
            for task in batch:
                results.append((True, {k: o[start : start + task.rows] for k, o in outputs.items()}))
                start += task.rows
            return results
    results = []
    for task in batch:
        try:
            results.append((True, task.fn(task.arrays)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who answers with it
            results.append((False, exc))
    return results


class _Queue:
    def __init__(
        self,
        options: BatchOptions,
        pool: ThreadPoolExecutor,
        loop: asyncio.AbstractEventLoop,
        on_batch: Callable[[int], None],
    ) -> None:
        self.options = options
        self.pool = pool
        self.loop = loop
        self.on_batch = on_batch
        self.tasks: deque[_Task] = deque()
        self.rows = 0  # weights of the queued tasks
        self.running = 0
        self.timer: asyncio.TimerHandle | None = None
        self.soon = False  # a dispatch is scheduled for the end of this turn of the loop
        self.timeout = options.batch_timeout_micros / 1e6

    def submit(self, task: _Task) -> None:
        if self.rows + task.weight > self.options.max_enqueued_batches * self.options.max_batch_size:
            raise ApiError("The batch scheduling queue to which this task was submitted is full; retry later", 503)
        self.tasks.append(task)
        self.rows += task.weight
        if not self.soon:  # requests read in this turn of the loop join the same batch
            self.soon = True
            self.loop.call_soon(self._on_soon)

    def _on_soon(self) -> None:
        self.soon = False
        self._dispatch()

    def _ready(self) -> bool:
        return self.rows >= self.options.max_batch_size or time.monotonic() - self.tasks[0].time >= self.timeout

    def _dispatch(self) -> None:
        while self.tasks and self.running < self.options.num_batch_threads and self._ready():
            batch, _, self.tasks = take_batch(self.tasks, self.options.max_batch_size)
            self.rows -= sum(t.weight for t in batch)
            self.running += 1
            self.on_batch(len(batch))
            try:
                self.pool.submit(self._work, batch)
            except RuntimeError:  # the batcher closed (the server is stopping): refuse, never leave a caller waiting
                self._done(batch, [(False, ApiError("the server is shutting down; retry later", 503))] * len(batch))
                return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.tasks and self.running < self.options.num_batch_threads:
            left = self.tasks[0].time + self.timeout - time.monotonic()
            self.timer = self.loop.call_later(max(left, 0.0), self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self._dispatch()

    def _work(self, batch: list[_Task]) -> None:
        results = _run_batch(batch)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting any more
            self.loop.call_soon_threadsafe(self._done, batch, results)

    def _done(self, batch: list[_Task], results: list[tuple[bool, Any]]) -> None:
        self.running -= 1
        for task, (ok, value) in zip(batch, results, strict=True):
            if task.future.done():  # the caller went away
                continue
            if ok:
                task.future.set_result(value)
            else:
                task.future.set_exception(value)
        self._dispatch()


class AsyncBatcher:
    """:meth:`run` merges concurrent awaits per key; ``batch_sizes`` counts requests per merged call."""

    def __init__(self, options: BatchOptions) -> None:
        self.options = options
        self.pool = ThreadPoolExecutor(max_workers=max(1, options.num_batch_threads), thread_name_prefix="batching")
        self._queues: dict[Hashable, _Queue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batch_sizes: list[int] = []  # requests per merged call, the latest 1,000
        self.closed = False

    def _count(self, requests: int) -> None:
        self.batch_sizes.append(requests)
        if len(self.batch_sizes) > 1000:
            del self.batch_sizes[:500]

    async def run(
        self, key: Hashable, fn: Callable[[Arrays], Outputs], arrays: Arrays, group: Hashable = None
    ) -> Outputs:
        """``fn(arrays)`` on a worker thread, possibly as one call with other requests' arrays of the
        same ``key`` and ``group``; call it on the event loop."""
        if self.closed:
            raise ApiError("the server is shutting down; retry later", 503)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop: the old queues' waiters and callbacks belong to a closed one
            self._loop, self._queues = loop, {}
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue(self.options, self.pool, loop, self._count)
        rows = _rows(arrays)
        size = self.options.max_batch_size
        # A request without one batch dimension never merges (a key of its own) and weighs a full batch.
        shape_key = (group, _shape_key(arrays)) if rows else object()
        task = _Task(fn, arrays, rows, shape_key, loop.create_future(), min(rows, size) if rows else size)
        queue.submit(task)
        return await task.future

    def close(self) -> None:
        """Stop the worker threads once the calls running finish; later runs get 503."""
        self.closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)
