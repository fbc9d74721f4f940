"""Dynamic batching: concurrent calls to one signature merged into fewer calls, each caller its own rows."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.serving.batching import Batcher, BatchOptions
from pipelines.serving.codec import ApiError
from tests.serving.conftest import V2, Server, call, publish_both
from tests.serving.toy_model import ROW, expected_probability


def two_versions(calls: list[tuple[float, int]]) -> dict[int, Callable[[Any], dict[str, np.ndarray]]]:
    """Two model versions by group (0: doubles ``x``, 1: triples it); each call appends (factor, rows)."""

    def version(factor: float) -> Callable[[Any], dict[str, np.ndarray]]:
        def fn(arrays: Any) -> dict[str, np.ndarray]:
            calls.append((factor, len(arrays["x"])))
            return {"y": arrays["x"] * factor}

        return fn

    return {0: version(2.0), 1: version(3.0)}


def concurrently(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """``fn(i)`` for i in range(n) on n threads released together; results (or exceptions) in order."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - returned for the test to look at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def doubler(calls: list[int], fail_on_negative: bool = False) -> Callable[[Any], dict[str, np.ndarray]]:
    def fn(arrays: Any) -> dict[str, np.ndarray]:
        calls.append(len(arrays["x"]))
        if fail_on_negative and (arrays["x"] < 0).any():
            raise ValueError("negative input")
        return {"y": arrays["x"] * 2, "name": arrays["s"]}

    return fn


def test_concurrent_calls_merge_and_each_caller_gets_its_rows() -> None:
    batcher, calls = Batcher(BatchOptions(max_batch_size=64, batch_timeout_micros=200_000)), []
    fn = doubler(calls)

    def one(i: int) -> dict[str, np.ndarray]:
        rows = 1 + i % 3
        s = np.empty(rows, dtype=object)
        s[:] = [f"caller{i}".encode()] * rows
        return batcher.run("sig", fn, {"x": np.full(rows, float(i)), "s": s})

    results = concurrently(16, one)
    assert sum(calls) == sum(1 + i % 3 for i in range(16))  # every row ran exactly once
    assert len(calls) <= 4, calls  # 16 callers, merged into a few calls (two batch threads)
    for i, out in enumerate(results):
        assert out["y"].tolist() == [2.0 * i] * (1 + i % 3)
        assert set(out["name"].tolist()) == {f"caller{i}".encode()}


def test_a_failing_merged_call_fails_only_the_caller_at_fault() -> None:
    batcher, calls = Batcher(BatchOptions(max_batch_size=64, batch_timeout_micros=200_000)), []
    fn = doubler(calls, fail_on_negative=True)
    s = np.array([b"a"], dtype=object)
    results = concurrently(8, lambda i: batcher.run("sig", fn, {"x": np.array([-1.0 if i == 3 else i]), "s": s}))
    assert isinstance(results[3], ValueError)
    assert [r["y"].tolist() for i, r in enumerate(results) if i != 3] == [[2.0 * i] for i in range(8) if i != 3]


def test_a_full_queue_refuses_with_503_instead_of_waiting() -> None:
    release = threading.Event()

    def slow(arrays: Any) -> dict[str, np.ndarray]:
        release.wait(10)
        return {"y": arrays["x"]}

    batcher = Batcher(
        BatchOptions(max_batch_size=2, batch_timeout_micros=0, max_enqueued_batches=1, num_batch_threads=1)
    )
    x = {"x": np.array([1.0])}
    threads = [threading.Thread(target=batcher.run, args=("sig", slow, x)) for _ in range(3)]
    for t in threads:  # one running, two queued: the queue (one batch of two) is full
        t.start()
        time.sleep(0.1)
    with pytest.raises(ApiError, match=r"batch scheduling queue .* is full") as info:
        batcher.run("sig", slow, x)
    assert info.value.status == 503
    release.set()
    for t in threads:
        t.join(timeout=10)


def counting_loader(calls: list[int]) -> Callable[[str, int, str], Any]:
    """``load_version`` whose signatures count their calls (batch size of each) in ``calls``."""
    from pipelines.serving.loading import load_version

    def load(name: str, version: int, path: str) -> Any:
        loaded = load_version(name, version, path)

        def counted(fn: Any) -> Any:
            def wrapper(**tensors: Any) -> Any:
                calls.append(int(next(iter(tensors.values())).shape[0]))
                return fn(**tensors)

            return wrapper

        signatures = {k: dataclasses.replace(s, fn=counted(s.fn)) for k, s in loaded.signatures.items()}
        return dataclasses.replace(loaded, signatures=signatures)

    return load


@pytest.mark.slow
def test_the_server_merges_concurrent_requests_into_fewer_signature_calls(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    from pipelines.serving.server import ServerOptions

    calls: list[int] = []
    options = ServerOptions(grpc_port=0, batching=BatchOptions(max_batch_size=64, batch_timeout_micros=100_000))
    srv = Server(publish_both(tmp_path, toy_models, pin=V2), options=options, loader=counting_loader(calls))
    try:
        calls.clear()  # the warm-up
        rows = [{**ROW, "age": 20 + i} for i in range(16)]
        answers = concurrently(
            16, lambda i: call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [rows[i]]})
        )
        for i, (status, body) in enumerate(answers):
            assert status == 200 and body["predictions"] == pytest.approx(
                [expected_probability(rows[i], 2.0)], abs=1e-6
            )
        assert sum(calls) == 16 and len(calls) <= 6, calls
    finally:
        srv.close()


def test_calls_of_two_versions_share_a_queue_but_never_a_call() -> None:
    batcher, calls = Batcher(BatchOptions(max_batch_size=64, batch_timeout_micros=200_000)), []
    fns = two_versions(calls)
    results = concurrently(12, lambda i: batcher.run("sig", fns[i % 2], {"x": np.array([float(i)])}, group=i % 2))
    assert [r["y"].tolist() for r in results] == [[i * (2.0 if i % 2 == 0 else 3.0)] for i in range(12)]
    assert sum(n for _, n in calls) == 12 and len(calls) < 12  # merged, each call within one version
