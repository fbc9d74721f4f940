"""Canary releases on the built-in server with real SavedModels: the traffic split, sticky keys,
labelled paths, and promote/rollback under load with zero 5xx (all traffic on 127.0.0.1)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from components import serving_layout as sl
from components import serving_versions as sv
from pipelines.serving.versions import (
    canary_model,
    follow_for_tf_serving,
    promote_model,
    rollback_model,
    tf_serving_available,
)
from tests.serving.conftest import V1, V2, Server, call
from tests.serving.toy_model import ROW, expected_probability

pytestmark = pytest.mark.slow

OLD, NEW = expected_probability(ROW, 1.0), expected_probability(ROW, 2.0)  # V1's answer, V2's answer
PREDICT = {"instances": [ROW]}


def serving_with_canary(tmp_path: Path, toy_models: dict[float, str], fraction: float) -> Path:
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2)
    sl.write_models_config(serving, pins={"ad_click": V1})
    sv.set_canary(serving, "ad_click", fraction, version=V2)
    return serving


def answer(port: int, path: str) -> int:
    """The version that answered a predict on ``path``, told apart by the toy model's weight."""
    status, body = call(port, "POST", path, PREDICT)
    assert status == 200, body
    value = body["predictions"][0]
    assert value == pytest.approx(OLD, abs=1e-6) or value == pytest.approx(NEW, abs=1e-6)
    return V2 if value == pytest.approx(NEW, abs=1e-6) else V1


def keyed_answer(port: int, key: str) -> int:
    """The version that answered an unlabelled predict sent with the caller's ``X-Request-Key``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "X-Request-Key": key}
        conn.request("POST", "/v1/models/ad_click:predict", body=json.dumps(PREDICT).encode(), headers=headers)
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 200, body
    return V2 if body["predictions"][0] == pytest.approx(NEW, abs=1e-6) else V1


def test_the_split_by_fraction_sticky_keys_and_labelled_paths(tmp_path: Path, toy_models: dict[float, str]) -> None:
    srv = Server(serving_with_canary(tmp_path, toy_models, 0.2))
    try:
        registry = srv.registry
        assert registry.models() == {"ad_click": [V1, V2]}
        randomly = [registry.resolve("ad_click").version for _ in range(2_000)]
        assert randomly.count(V2) / 2_000 == pytest.approx(0.2, abs=0.04)

        keys = [f"caller-{i}" for i in range(2_000)]
        first = {k: registry.resolve("ad_click", route_key=k).version for k in keys}
        assert list(first.values()).count(V2) / 2_000 == pytest.approx(0.2, abs=0.04)
        for _ in range(3):
            assert {k: registry.resolve("ad_click", route_key=k).version for k in keys} == first

        for _ in range(50):  # labelled and versioned paths address one version, whatever the split
            assert registry.resolve("ad_click", label="canary").version == V2
            assert registry.resolve("ad_click", label="stable").version == V1
            assert registry.resolve("ad_click", version=V1).version == V1

        over_http = [answer(srv.port, "/v1/models/ad_click:predict") for _ in range(500)]
        assert over_http.count(V2) / 500 == pytest.approx(0.2, abs=0.07)
        assert {answer(srv.port, "/v1/models/ad_click/labels/canary:predict") for _ in range(20)} == {V2}
        assert {answer(srv.port, "/v1/models/ad_click/labels/stable:predict") for _ in range(20)} == {V1}

        # The REST status TF Serving shares drives the two-step label moves for a supervised TF Serving.
        assert tf_serving_available(srv.port, "ad_click") == {V1, V2}
        assert tf_serving_available(srv.port, "no_such_model") == set()
        stop = threading.Event()
        staged = follow_for_tf_serving(str(srv.serving_dir), srv.port, 0.1, stop)
        stop.set()
        assert Path(staged).read_text() == (srv.serving_dir / "models.config").read_text()

        sv.set_canary(srv.serving_dir, "ad_click", 0.5, version=V2)  # a wider canary keeps its callers
        registry.poll_once()
        wider = {k: registry.resolve("ad_click", route_key=k).version for k in keys}
        assert all(wider[k] == V2 for k, v in first.items() if v == V2)
        assert list(wider.values()).count(V2) / 2_000 == pytest.approx(0.5, abs=0.04)
        over_http_keyed = {k: {keyed_answer(srv.port, k) for _ in range(3)} for k in keys[:40]}
        assert over_http_keyed == {k: {wider[k]} for k in keys[:40]}  # sticky over HTTP, as in-process
        assert {wider[k] for k in keys[:40]} == {V1, V2}
    finally:
        srv.close()


def test_rollback_canary_and_promote_under_load_answer_every_request(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    """16 clients, 5,000 requests: the canary removed, started again, then promoted; zero 5xx, and
    every request sent after a change reached the server answers as the change says."""
    serving = serving_with_canary(tmp_path, toy_models, 0.3)
    srv = Server(serving)
    clients, total, deadline = 16, 5_000, time.monotonic() + 120
    lock, results = threading.Lock(), []  # (sent at, status, version or None)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if len(results) >= total:
                        return
                sent = time.monotonic()
                status, body = call(srv.port, "POST", "/v1/models/ad_click:predict", PREDICT, conn=conn)
                value = body["predictions"][0] if status == 200 else None
                version = {True: V2, False: V1}[value == pytest.approx(NEW, abs=1e-6)] if value is not None else None
                with lock:
                    results.append((sent, status, version))
        finally:
            conn.close()

    def state(version: int) -> str:
        return {s["version"]: s["state"] for s in srv.registry.status("ad_click")["model_version_status"]}[str(version)]

    def after(count: int, change: Callable[[], object], applied: Callable[[], bool]) -> tuple[float, float]:
        """Make ``change`` once ``count`` requests are answered: (when it was made, when the server applied it)."""
        while len(results) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        made = time.monotonic()
        change()
        while not applied() and time.monotonic() < deadline:
            time.sleep(0.02)
        return made, time.monotonic()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    try:
        for t in threads:
            t.start()
        dir_ = str(serving)
        _, removed = after(1_250, lambda: rollback_model(dir_, "ad_click"), lambda: state(V2) == "END")
        again, _ = after(2_500, lambda: canary_model(dir_, "ad_click", 0.3), lambda: state(V2) == "AVAILABLE")
        _, promoted = after(3_750, lambda: promote_model(dir_, "ad_click"), lambda: state(V1) == "END")
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads)
    finally:
        srv.close()

    assert len(results) >= total, f"only {len(results)} requests in the time allowed"
    assert {s for _, s, _ in results} == {200}
    before = [v for sent, _, v in results if sent < removed]
    assert {V1, V2} <= set(before)  # the 30% canary answered some
    assert {v for sent, _, v in results if removed < sent < again} == {V1}  # the canary gone: stable only
    assert {v for sent, _, v in results if sent > promoted} == {V2}
    assert sum(1 for sent, _, _ in results if sent > promoted) >= 500
    assert sl.served_version(serving, "ad_click") == V2
