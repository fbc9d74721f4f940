"""Dynamic batching, as TF Serving's ``--enable_batching``: concurrent calls to one signature merged.

    caller threads                     one queue per (model, signature)
      run(key, fn, arrays) ---------->  [req][req][req] ...
        waits for its own rows          worker: take up to max_batch_size instances, or what came
                                        within batch_timeout_micros of the first; concatenate each
                                        input; one fn call; split every output back by row counts

Requests merge only with requests of the same group (the loaded version), input names, dtypes and
per-row shapes; queues (and their threads) are per model signature, not per version. A request
of ``max_batch_size`` instances or more runs alone. If a merged call fails, each request of it is
run alone so only the bad one gets the error. More than ``max_enqueued_batches`` full batches
waiting is overload: the request is refused with 503 (TF Serving's UNAVAILABLE), not queued.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from pipelines.serving.codec_base import ApiError

__all__ = ["BatchOptions", "Batcher"]

Arrays = Mapping[str, np.ndarray]
Outputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class BatchOptions:
    max_batch_size: int = 64
    batch_timeout_micros: int = 1000
    max_enqueued_batches: int = 16
    num_batch_threads: int = 2


@dataclass
class _Task:
    fn: Callable[[Arrays], Outputs]
    arrays: Arrays
    rows: int
    shape_key: tuple  # tasks merge only with tasks of the same key: same group, inputs, dtypes, row shapes
    future: Future


def _rows(arrays: Arrays) -> int:
    sizes = {int(a.shape[0]) for a in arrays.values() if a.ndim}
    return sizes.pop() if len(sizes) == 1 and len(arrays) == sum(1 for a in arrays.values() if a.ndim) else 0


def _shape_key(arrays: Arrays) -> tuple:
    return tuple(sorted((k, a.dtype.str, a.shape[1:]) for k, a in arrays.items()))


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    if arrays[0].dtype == object:
        out = np.empty((sum(len(a) for a in arrays), *arrays[0].shape[1:]), dtype=object)
        start = 0
        for a in arrays:
            out[start : start + len(a)] = a
            start += len(a)
        return out
    return np.concatenate(arrays)


def take_batch(tasks: deque, max_batch_size: int) -> tuple[list, int, deque]:
    """The first queued task and the later ones of its shape that fit in ``max_batch_size`` rows.

    Returns the batch, its row count and the tasks left, in order. Tasks need ``rows`` and ``shape_key``.
    """
    first = tasks.popleft()
    batch, rows = [first], first.rows
    kept: deque = deque()
    while tasks:
        task = tasks.popleft()
        if task.shape_key == first.shape_key and rows + task.rows <= max_batch_size:
            batch.append(task)
            rows += task.rows
        else:
            kept.append(task)
    return batch, rows, kept


class _Queue:
    def __init__(self, options: BatchOptions, on_batch: Callable[[int], None]) -> None:
        self.options = options
        self.on_batch = on_batch
        self.tasks: deque[_Task] = deque()
        self.rows = 0
        self.closed = False
        self.cond = threading.Condition()
        self.workers = [
            threading.Thread(target=self._work, name="batching", daemon=True) for _ in range(options.num_batch_threads)
        ]
        for w in self.workers:
            w.start()

    def submit(self, task: _Task) -> None:
        limit = self.options.max_enqueued_batches * self.options.max_batch_size
        with self.cond:
            if self.closed:
                raise ApiError("the server is shutting down; retry later", 503)
            if self.rows + task.rows > limit:
                raise ApiError("The batch scheduling queue to which this task was submitted is full; retry later", 503)
            self.tasks.append(task)
            self.rows += task.rows
            self.cond.notify()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _take(self) -> list[_Task] | None:
        """The next batch: waits for a first task, then for others up to the size or the timeout;
        None once closed and empty (the worker ends)."""
        timeout = self.options.batch_timeout_micros / 1e6
        with self.cond:
            while True:
                while not self.tasks:
                    if self.closed:
                        return None
                    self.cond.wait()
                deadline = time.monotonic() + timeout
                while self.rows < self.options.max_batch_size:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self.cond.wait(left):
                        break
                if self.tasks:  # another worker may have taken them meanwhile
                    break
            batch, rows, self.tasks = take_batch(self.tasks, self.options.max_batch_size)
            self.rows -= rows
            if self.tasks:
                self.cond.notify()
            return batch

    def _work(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self.on_batch(len(batch))
            if len(batch) == 1:
                self._run_alone(batch[0])
                continue
            try:
                merged = {k: _concat([t.arrays[k] for t in batch]) for k in batch[0].arrays}
                outputs = batch[0].fn(merged)
                total = sum(t.rows for t in batch)
                if any(o.ndim == 0 or o.shape[0] != total for o in outputs.values()):
                    raise ValueError("an output has no batch dimension")
            except Exception:  # noqa: BLE001 - run each alone: only the request at fault gets an error
                for task in batch:
                    self._run_alone(task)
                continue
            start = 0
            for task in batch:
                task.future.set_result({k: o[start : start + task.rows] for k, o in outputs.items()})
                start += task.rows

    def _run_alone(self, task: _Task) -> None:
        try:
            task.future.set_result(task.fn(task.arrays))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who answers with it
            task.future.set_exception(exc)


class Batcher:
    """Merges concurrent :meth:`run` calls per key; ``batches`` counts the merged calls (for tests)."""

    def __init__(self, options: BatchOptions) -> None:
        self.options = options
        self._queues: dict[Hashable, _Queue] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.batch_sizes: list[int] = []  # requests per merged call, the latest 1,000

    def _count(self, requests: int) -> None:
        self.batch_sizes.append(requests)
        if len(self.batch_sizes) > 1000:
            del self.batch_sizes[:500]

    def run(self, key: Hashable, fn: Callable[[Arrays], Outputs], arrays: Arrays, group: Hashable = None) -> Outputs:
        """``fn(arrays)``, possibly as part of one call with other threads' arrays of the same ``key``
        and ``group`` (the queue is per key, e.g. a model's signature; the group, e.g. its loaded
        version, says which calls may share one ``fn`` call)."""
        rows = _rows(arrays)
        if rows == 0 or rows >= self.options.max_batch_size:
            return fn(arrays)
        queue = self._queues.get(key)
        if queue is None:
            with self._lock:
                queue = self._queues.get(key)
                if queue is None:
                    queue = self._queues[key] = _Queue(self.options, self._count)
                    if self._closed:
                        queue.close()
        task = _Task(fn, arrays, rows, (group, _shape_key(arrays)), Future())
        queue.submit(task)
        return task.future.result()

    def close(self) -> None:
        """End the worker threads once the queued calls ran; later calls are refused with 503."""
        with self._lock:
            self._closed = True
            for queue in self._queues.values():
                queue.close()
