"""The built-in server's REST API over real HTTP on 127.0.0.1, answering from real SavedModels."""

from __future__ import annotations

import base64
import http.client
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from components import serving_layout as sl
from tests.serving.conftest import V1, V2, Server, call
from tests.serving.toy_model import COLUMNS, ROW, example_features, expected_probability

pytestmark = pytest.mark.slow


def p(weight: float, row: dict[str, Any] = ROW) -> float:
    return expected_probability(row, weight)


def example_proto(row: dict[str, Any]) -> bytes:
    import tensorflow as tf

    return tf.train.Example(features=tf.train.Features(feature=example_features(row))).SerializeToString()


ROW2 = {**ROW, "age": 61, "male": 1, "daily_time_spent_on_site": 40.5, "city": "Elsewhere"}


# --------------------------------------------------------------------------- status and metadata


def test_model_status_for_the_model_a_version_and_a_label(server: Server) -> None:
    available = {"version": str(V2), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert call(server.port, "GET", "/v1/models/ad_click") == (200, {"model_version_status": [available]})
    assert call(server.port, "GET", f"/v1/models/ad_click/versions/{V2}") == (
        200,
        {"model_version_status": [available]},
    )
    assert call(server.port, "GET", "/v1/models/ad_click/labels/stable") == (200, {"model_version_status": [available]})


def test_metadata_has_both_signature_defs(server: Server) -> None:
    for path in (
        "/v1/models/ad_click/metadata",
        f"/v1/models/ad_click/versions/{V2}/metadata",
        "/v1/models/ad_click/labels/stable/metadata",
    ):
        status, body = call(server.port, "GET", path)
        assert status == 200
        assert body["model_spec"] == {"name": "ad_click", "signature_name": "", "version": str(V2)}
        defs = body["metadata"]["signature_def"]["signature_def"]
        default = defs["serving_default"]
        assert default["method_name"] == "tensorflow/serving/predict"
        assert {k: v["dtype"] for k, v in default["inputs"].items()} == {
            k: {"float32": "DT_FLOAT", "int64": "DT_INT64", "string": "DT_STRING"}[t] for k, t in COLUMNS.items()
        }
        assert default["inputs"]["age"]["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
        assert default["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"
        assert list(defs["serving_examples"]["inputs"]) == ["examples"]


# --------------------------------------------------------------------------- predict, classify, regress


def test_predict_rows_and_columns(server: Server) -> None:
    status, body = call(server.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW, ROW2]})
    assert status == 200 and list(body) == ["predictions"]
    assert body["predictions"] == pytest.approx([p(2.0), p(2.0, ROW2)], abs=1e-6)
    columns = {k: [ROW[k], ROW2[k]] for k in ROW}
    status, body = call(
        server.port, "POST", "/v1/models/ad_click:predict", {"signature_name": "serving_default", "inputs": columns}
    )
    assert status == 200 and body["outputs"] == pytest.approx([p(2.0), p(2.0, ROW2)], abs=1e-6)


def test_predict_by_version_and_label(server: Server) -> None:
    for path in (f"/v1/models/ad_click/versions/{V2}:predict", "/v1/models/ad_click/labels/stable:predict"):
        status, body = call(server.port, "POST", path, {"instances": [ROW]})
        assert status == 200 and body["predictions"] == pytest.approx([p(2.0)], abs=1e-6)


def test_predict_serialized_examples_as_b64(server: Server) -> None:
    b64 = [{"b64": base64.b64encode(example_proto(r)).decode()} for r in (ROW, ROW2)]
    status, body = call(
        server.port, "POST", "/v1/models/ad_click:predict", {"signature_name": "serving_examples", "instances": b64}
    )
    assert status == 200 and body["predictions"] == pytest.approx([p(2.0), p(2.0, ROW2)], abs=1e-6)
    status, body = call(
        server.port, "POST", "/v1/models/ad_click:predict", {"signature_name": "serving_examples", "inputs": b64}
    )
    assert status == 200 and body["outputs"] == pytest.approx([p(2.0), p(2.0, ROW2)], abs=1e-6)


@pytest.mark.parametrize("signature", [None, "serving_examples"])
def test_classify_and_regress_examples(server: Server, signature: str | None) -> None:
    extra = {"signature_name": signature} if signature else {}
    shared = {"country": ROW["country"], "timestamp": ROW["timestamp"]}
    examples = [{k: v for k, v in r.items() if k not in shared} for r in (ROW, ROW2)]
    status, body = call(
        server.port, "POST", "/v1/models/ad_click:classify", {**extra, "context": shared, "examples": examples}
    )
    assert status == 200
    (no1, yes1), (no2, yes2) = body["results"]
    assert no1[0] == "0" and yes1[0] == "1" and yes1[1] == pytest.approx(p(2.0), abs=1e-6)
    assert no2[1] == pytest.approx(1 - p(2.0, ROW2), abs=1e-6)
    assert yes2 == ["1", pytest.approx(p(2.0, ROW2), abs=1e-6)]
    status, body = call(
        server.port, "POST", f"/v1/models/ad_click/versions/{V2}:regress", {**extra, "examples": [ROW, ROW2]}
    )
    assert status == 200 and body == {"results": pytest.approx([p(2.0), p(2.0, ROW2)], abs=1e-6)}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in ROW.items() if k != key}


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        (
            "POST",
            "/v1/models/ad_click:predict",
            b'{"instances": [',
            400,
            "JSON Parse error: Expecting value at offset: 15",
        ),
        ("POST", "/v1/models/ad_click:predict", b"", 400, "JSON Parse error: The document is empty"),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"instances": [ROW], "inputs": {k: [v] for k, v in ROW.items()}},
            400,
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist",
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"instances": [without("age")]},
            400,
            "Failed to process element: 0 of 'instances' list. JSON object: ",
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"inputs": {k: [v] for k, v in without("age").items()}},
            400,
            "Missing named input: age in 'inputs' object. input 'age' may not be missing",
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"instances": [{**ROW, "age": "35"}]},
            400,
            "Failed to process element: 0 key: age of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"35\" "
            "Type: String is not of expected type: int64",
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"inputs": {**{k: [v] for k, v in ROW.items()}, "age": [35.5]}},
            400,
            "JSON Value: 35.5 Type: Number is not of expected type: int64",
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"signature_name": "nope", "instances": [ROW]},
            400,
            'Serving signature name: "nope" not found in signature def',
        ),
        (
            "POST",
            "/v1/models/ad_click:predict",
            {"signature_name": 7, "instances": [ROW]},
            400,
            "'signature_name' key must be a string value.",
        ),
        (
            "POST",
            "/v1/models/unknown:predict",
            {"instances": [ROW]},
            404,
            "Servable not found for request: Latest(unknown)",
        ),
        (
            "POST",
            f"/v1/models/ad_click/versions/{V1}:predict",
            {"instances": [ROW]},
            404,
            f"Servable not found for request: Specific(ad_click, {V1})",
        ),
        (
            "POST",
            "/v1/models/ad_click/labels/canary:predict",
            {"instances": [ROW]},
            400,
            "Unrecognized servable version label: canary",
        ),
        ("GET", "/v1/models/unknown", None, 404, "Could not find any versions of model unknown"),
        ("GET", "/v1/models/ad_click/versions/5", None, 404, "Could not find version 5 of model ad_click"),
        ("GET", "/v1/models/unknown/metadata", None, 404, "Servable not found for request: Latest(unknown)"),
        ("GET", "/v1/models/ad_click:predict", None, 400, "Malformed request: GET /v1/models/ad_click:predict"),
        ("GET", "/v1/models", None, 400, "Missing model name in request."),
        ("GET", "/metrics", None, 404, "Malformed request: GET /metrics"),
        (
            "POST",
            "/v1/models/ad_click:classify",
            {"instances": [ROW]},
            400,
            "When method is classify, key 'examples' is expected and was not found",
        ),
        (
            "POST",
            "/v1/models/ad_click:regress",
            {"examples": [{**ROW, "age": 35.5}]},
            400,
            "Key: age.  Data types don't match. Data type: float but expected type: int64",
        ),
        (
            "POST",
            "/v1/models/ad_click:regress",
            {"signature_name": "serving_examples", "examples": [without("age")]},
            400,
            "age",
        ),
        (
            "POST",
            "/v1/models/ad_click:classify",
            {"examples": [{**ROW, "city": [None]}]},
            400,
            "Feature: city has element with unexpected JSON type: Null",
        ),
    ],
)
def test_bad_requests(server: Server, method: str, path: str, body: Any, status: int, message: str) -> None:
    got, answer = call(server.port, method, path, body)
    assert got == status and list(answer) == ["error"]
    assert message in answer["error"]


def test_keep_alive_connection_serves_many_requests(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for _ in range(20):
            assert call(server.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]}, conn=conn)[0] == 200
        assert call(server.port, "POST", "/v1/models/ad_click:predict", b"{", conn=conn)[0] == 400
        assert call(server.port, "GET", "/v1/models/ad_click", conn=conn)[0] == 200
    finally:
        conn.close()


# --------------------------------------------------------------------------- versions under load


def test_load_with_a_new_version_published_midway(tmp_path: Path, toy_models: dict[float, str]) -> None:
    """16 clients, 5,000 requests; a version is published and pinned halfway; zero 5xx, all switch."""
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.write_models_config(serving, pins={"ad_click": V1})
    srv = Server(serving)
    clients, total, deadline = 16, 5_000, time.monotonic() + 90
    lock, results = threading.Lock(), []
    old, new = p(1.0), p(2.0)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if len(results) >= total:
                        return
                status, body = call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]}, conn=conn)
                value = body["predictions"][0] if status == 200 else None
                with lock:
                    results.append((time.monotonic(), status, value))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    try:
        for t in threads:
            t.start()
        while len(results) < total // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        version, _ = sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2)
        sl.write_models_config(serving, pins={"ad_click": version})
        published_at = time.monotonic()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads)
    finally:
        srv.close()

    assert len(results) >= total, f"only {len(results)} requests in the time allowed"
    statuses = {s for _, s, _ in results}
    assert statuses == {200}, f"non-200 answers: {statuses}"
    values = [v for _, _, v in results]
    assert all(v == pytest.approx(old, abs=1e-6) or v == pytest.approx(new, abs=1e-6) for v in values)
    first_new = min(t for t, _, v in results if v == pytest.approx(new, abs=1e-6))
    last_old = max(t for t, _, v in results if v == pytest.approx(old, abs=1e-6))
    assert first_new > published_at and last_old < first_new + 1.0  # only requests in flight finish on v1
    assert all(v == pytest.approx(new, abs=1e-6) for v in values[-200:])
    assert f"loaded ad_click version {V2}" in " ".join(srv.logs) and f"unloaded ad_click version {V1}" in srv.logs


def test_a_version_that_fails_to_load_is_reported_and_the_old_one_keeps_serving(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.write_models_config(serving, pins={"ad_click": V1})
    srv = Server(serving)
    try:
        bad = tmp_path / "bad.tfrecord"
        sl.write_warmup_requests(bad, "ad_click", [ROW], dtypes=COLUMNS, signature_name="no_such_signature")
        sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2, extra_files={sl.WARMUP_FILE: bad})
        sl.write_models_config(serving, pins={"ad_click": V2})
        srv.registry.poll_once()
        status, body = call(srv.port, "GET", "/v1/models/ad_click")
        states = {s["version"]: s for s in body["model_version_status"]}
        assert states[str(V2)]["state"] == "END" and "no_such_signature" in states[str(V2)]["status"]["error_message"]
        assert states[str(V1)]["state"] == "AVAILABLE"
        status, body = call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]})
        assert status == 200 and body["predictions"] == pytest.approx([p(1.0)], abs=1e-6)
    finally:
        srv.close()
