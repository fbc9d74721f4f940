"""Prometheus metrics and the request log, over REST and gRPC, from a real server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from components import serving_layout as sl
from tests.serving.conftest import V1, V2, Server, call
from tests.serving.toy_model import COLUMNS, ROW, expected_probability

pytestmark = pytest.mark.slow


def two_labelled_versions(tmp_path: Path, toy_models: dict[float, str]) -> Path:
    """V2 labelled ``stable``, V1 labelled ``canary`` (no traffic share: only its label path reaches it)."""
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2)
    (serving / "models.config").write_text(
        "model_config_list {\n  config {\n    name: 'ad_click'\n"
        f"    base_path: '{serving / 'ad_click'}'\n    model_platform: 'tensorflow'\n"
        f"    model_version_policy {{ specific {{ versions: {V1} versions: {V2} }} }}\n"
        f"    version_labels {{ key: 'stable' value: {V2} }}\n"
        f"    version_labels {{ key: 'canary' value: {V1} }}\n  }}\n}}\n"
    )
    return serving


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` from the Prometheus text, parsed by prometheus_client."""
    import http.client

    from prometheus_client.parser import text_string_to_metric_families

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/monitoring/prometheus/metrics")
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/plain")
    text = response.read().decode()
    conn.close()
    assert "# TYPE :tensorflow:serving:request_count counter" in text  # TF Serving's name, no _total
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def predict_grpc(port: int, row: dict[str, Any], request_id: str) -> Any:
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "ad_click"
    for name, dtype in COLUMNS.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto([row[name]], dtype=getattr(tf, dtype)))
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        return stub.Predict(request, timeout=30, metadata=[("x-request-id", request_id)])


def post(port: int, path: str, doc: Any, request_id: str) -> tuple[int, Any]:
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(doc), headers={"X-Request-Id": request_id})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_metrics_count_by_status_version_and_label_and_the_log_reads_back(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    from pipelines.serving.request_log import read_logs
    from pipelines.serving.server import ServerOptions

    log_dir = tmp_path / "request_log"
    srv = Server(two_labelled_versions(tmp_path, toy_models), options=ServerOptions(grpc_port=0, log_path=str(log_dir)))
    sent: dict[str, tuple[dict[str, Any], int, str, float]] = {}  # request id -> (row, version, label, answer)
    try:
        for i in range(3):
            row = {**ROW, "age": 30 + i}
            status, body = post(srv.port, "/v1/models/ad_click:predict", {"instances": [row]}, f"rest-{i}")
            assert status == 200
            sent[f"rest-{i}"] = (row, V2, "stable", body["predictions"][0])
        for i in range(2):
            row = {**ROW, "age": 50 + i}
            status, body = post(srv.port, "/v1/models/ad_click/labels/canary:predict", {"instances": [row]}, f"c-{i}")
            assert status == 200 and body["predictions"][0] == pytest.approx(expected_probability(row, 1.0), abs=1e-6)
            sent[f"c-{i}"] = (row, V1, "canary", body["predictions"][0])
        assert call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [{**ROW, "age": "x"}]})[0] == 400
        assert call(srv.port, "POST", "/v1/models/nope:predict", {"instances": [ROW]})[0] == 404
        import tensorflow as tf

        row = {**ROW, "age": 70}
        answer = tf.make_ndarray(predict_grpc(srv.grpc_port, row, "grpc-0").outputs["probabilities"])[0]
        sent["grpc-0"] = (row, V2, "stable", float(answer))

        got = metrics(srv.port)
        count = ":tensorflow:serving:request_count_total"
        assert got[(count, (("model_name", "ad_click"), ("status", "OK")))] == 6
        assert got[(count, (("model_name", "ad_click"), ("status", "INVALID_ARGUMENT")))] == 1
        assert got[(count, (("model_name", "nope"), ("status", "NOT_FOUND")))] == 1
        by_version = ":tensorflow:serving:request_count_by_version_total"
        model, ok = ("model_name", "ad_click"), ("status", "OK")
        assert got[(by_version, (("label", "stable"), model, ok, ("version", str(V2))))] == 4
        assert got[(by_version, (("label", "canary"), model, ok, ("version", str(V1))))] == 2
        latency = ":tensorflow:serving:request_latency_count"
        assert got[(latency, (("API", "predict"), ("entrypoint", "REST"), ("model_name", "ad_click")))] == 6
        assert got[(latency, (("API", "predict"), ("entrypoint", "GRPC"), ("model_name", "ad_click")))] == 1
        examples = ":tensorflow:serving:request_example_counts_sum"
        assert got[(examples, (("API", "predict"), ("model_name", "ad_click")))] == 6  # the 400 ran no rows
    finally:
        srv.close()  # flushes the request log

    records = read_logs(str(log_dir))
    assert sorted(r.request_id for r in records) == sorted(sent)  # errors are not logged
    for record in records:
        row, version, label, answer = sent[record.request_id]
        assert (record.model, record.version, record.label, record.api) == ("ad_click", version, label, "predict")
        assert record.signature == "serving_default" and record.time > 0
        assert set(record.inputs) == set(COLUMNS)
        for name, value in row.items():
            expected = value.encode() if isinstance(value, str) else value
            assert (
                record.inputs[name].tolist() == pytest.approx([expected]) if not isinstance(value, str) else [expected]
            )
        assert record.outputs["probabilities"].tolist() == pytest.approx([answer], abs=1e-6)
    assert isinstance(records[0].inputs["age"], np.ndarray)


def test_a_log_that_cannot_be_written_drops_and_counts_but_answers(
    tmp_path: Path, toy_models: dict[float, str]
) -> None:
    from pipelines.serving.server import ServerOptions

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the log folder should be: every write fails, as on a full disk")
    srv = Server(two_labelled_versions(tmp_path, toy_models), options=ServerOptions(log_path=str(blocker / "log")))
    try:
        for _ in range(3):
            assert call(srv.port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]})[0] == 200
        srv.http.service.request_log.close()  # write what is queued now
        got = metrics(srv.port)
        assert got[(":tensorflow:serving:request_log_records_total", (("outcome", "dropped"),))] == 3
    finally:
        srv.close()
