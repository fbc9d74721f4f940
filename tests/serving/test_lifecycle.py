"""The server's threads end with it: REST's pool, gRPC's, and the batchers' workers."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import grpc
import pytest

from tests.serving.conftest import V2, Server, call, publish_both
from tests.serving.toy_model import ROW

pytestmark = pytest.mark.slow

_POOLS = ("rest", "batching", "grpc")  # thread name prefixes of the server's pools


def _pool_threads(before: set[threading.Thread]) -> list[str]:
    return [t.name for t in threading.enumerate() if t not in before and t.name.startswith(_POOLS) and t.is_alive()]


def test_closing_the_server_ends_its_thread_pools(tmp_path: Path, toy_models: dict[float, str]) -> None:
    from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

    from pipelines.serving.batching import BatchOptions
    from pipelines.serving.server import ServerOptions

    before = set(threading.enumerate())
    options = ServerOptions(grpc_port=0, batching=BatchOptions(max_batch_size=8, batch_timeout_micros=0))
    srv = Server(publish_both(tmp_path, toy_models, pin=V2), options=options)
    try:
        predict = "/v1/models/ad_click:predict"
        assert call(srv.port, "POST", predict, {"instances": [ROW]})[0] == 200  # the batcher's worker
        big = json.dumps({"instances": [ROW] * 400}).encode()  # over 64 KiB: answered on REST's pool
        assert len(big) > 64 * 1024 and call(srv.port, "POST", predict, big)[0] == 200
        # regress runs on the loop through the threads' batcher (its worker thread)
        assert call(srv.port, "POST", "/v1/models/ad_click:regress", {"examples": [ROW]})[0] == 200
        with grpc.insecure_channel(f"127.0.0.1:{srv.grpc_port}") as channel:
            request = get_model_status_pb2.GetModelStatusRequest()
            request.model_spec.name = "ad_click"
            model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, timeout=30)
        assert _pool_threads(before), "the requests above started no pool thread: the test proves nothing"
    finally:
        srv.close()
    deadline = time.monotonic() + 5
    while _pool_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pool_threads(before) == []
