"""Real SavedModels (the toy model with the trainer's two signatures), built once per session."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components import serving_layout as sl

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

WEIGHTS = (1.0, 2.0)
V1, V2 = 1_000, 2_000


@pytest.fixture(scope="session")
def toy_models(tmp_path_factory: pytest.TempPathFactory) -> dict[float, str]:
    """``{weight: SavedModel dir}``; the weight changes every answer, so versions can be told apart."""
    from tests.serving.toy_model import build_toy_model

    root = tmp_path_factory.mktemp("toy_models")
    return {w: build_toy_model(root / f"w{w}", w) for w in WEIGHTS}


def call(
    port: int, method: str, path: str, body: Any = None, conn: http.client.HTTPConnection | None = None
) -> tuple[int, Any]:
    """One HTTP request to 127.0.0.1:port; ``(status, parsed JSON body)``. ``body`` may be raw bytes."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    try:
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        if own:
            conn.close()


class Server:
    """The built-in server (REST, and gRPC with ``grpc_port=0``) in this process, on 127.0.0.1."""

    def __init__(
        self,
        serving_dir: Path,
        poll_seconds: float = 0.2,
        options: Any = None,
        loader: Any = None,
    ) -> None:
        from pipelines.serving import ModelRegistry, make_server

        self.serving_dir = serving_dir
        self.logs: list[str] = []
        extra = {"loader": loader} if loader is not None else {}
        self.registry = ModelRegistry(str(serving_dir), poll_seconds, log=self.logs.append, **extra)
        self.registry.poll_once()
        self.http = make_server(self.registry, "127.0.0.1", 0, options=options)
        self.port = self.http.server_address[1]
        self.grpc_port = self.http.grpc_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()
        self.registry.start()

    def close(self) -> None:
        self.registry.stop()
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=10)


def publish_both(tmp_path: Path, toy_models: dict[float, str], pin: int) -> Path:
    """V1 (weight 1) and V2 (weight 2) pushed under ``tmp_path/serving``, ``pin`` served as ``stable``."""
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2)
    sl.write_models_config(serving, pins={"ad_click": pin})
    return serving


def start(tmp_path: Path, toy_models: dict[float, str], pin: int) -> Server:
    return Server(publish_both(tmp_path, toy_models, pin))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, toy_models: dict[float, str]) -> Iterator[Server]:
    srv = start(tmp_path_factory.mktemp("server"), toy_models, pin=V2)
    yield srv
    srv.close()
