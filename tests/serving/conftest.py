"""Real SavedModels (the toy model with the trainer's two signatures), built once per session."""

from __future__ import annotations

import http.client
import json
import os
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

WEIGHTS = (1.0, 2.0)


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
