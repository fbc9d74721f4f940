"""TF Serving's gRPC API, called with the stock ``tensorflow_serving.apis`` stubs over 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from tests.serving.conftest import V2, Server, publish_both
from tests.serving.toy_model import COLUMNS, ROW, example_features, expected_probability

pytestmark = pytest.mark.slow

ROW2 = {**ROW, "age": 61, "city": "Elsewhere"}


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory, toy_models: dict[float, str]) -> Iterator[Server]:
    from pipelines.serving.server import ServerOptions

    serving = publish_both(tmp_path_factory.mktemp("grpc"), toy_models, pin=V2)
    srv = Server(serving, options=ServerOptions(grpc_port=0))
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def channel(grpc_server: Server) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{grpc_server.grpc_port}") as ch:
        yield ch


def predict_request(rows: list[dict[str, Any]], **spec: Any) -> Any:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "ad_click"
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    for name, dtype in COLUMNS.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto([r[name] for r in rows], dtype=getattr(tf, dtype)))
    return request


def test_predict_by_model_version_and_label(channel: grpc.Channel) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    for spec in ({}, {"version": V2}, {"version_label": "stable"}):
        response = stub.Predict(predict_request([ROW, ROW2], **spec), timeout=30)
        got = tf.make_ndarray(response.outputs["probabilities"])
        assert got.tolist() == pytest.approx(
            [expected_probability(ROW, 2.0), expected_probability(ROW2, 2.0)], abs=1e-6
        )
        assert response.model_spec.name == "ad_click" and response.model_spec.version.value == V2
        assert response.model_spec.signature_name == "serving_default"


def test_classify_and_regress_with_context(channel: grpc.Channel) -> None:
    import tensorflow as tf
    from tensorflow_serving.apis import classification_pb2, prediction_service_pb2_grpc, regression_pb2

    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    shared = {"country": ROW["country"], "timestamp": ROW["timestamp"]}
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "ad_click"
    with_context = request.input.example_list_with_context
    with_context.context.CopyFrom(tf.train.Example(features=tf.train.Features(feature=example_features(shared))))
    for row in (ROW, ROW2):
        rest = {k: v for k, v in row.items() if k not in shared}
        with_context.examples.add().CopyFrom(
            tf.train.Example(features=tf.train.Features(feature=example_features(rest)))
        )
    result = stub.Classify(request, timeout=30).result
    (first, second) = result.classifications
    assert [c.label for c in first.classes] == ["0", "1"]
    assert first.classes[1].score == pytest.approx(expected_probability(ROW, 2.0), abs=1e-6)
    assert second.classes[0].score == pytest.approx(1 - expected_probability(ROW2, 2.0), abs=1e-6)

    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name = "ad_click"
    regress.model_spec.signature_name = "serving_examples"
    regress.input.example_list.examples.add().CopyFrom(
        tf.train.Example(features=tf.train.Features(feature=example_features(ROW)))
    )
    (value,) = stub.Regress(regress, timeout=30).result.regressions
    assert value.value == pytest.approx(expected_probability(ROW, 2.0), abs=1e-6)


def test_metadata_and_status(channel: grpc.Channel) -> None:
    from tensorflow_serving.apis import (
        get_model_metadata_pb2,
        get_model_status_pb2,
        model_service_pb2_grpc,
        prediction_service_pb2_grpc,
    )

    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "ad_click"
    response = stub.GetModelMetadata(request, timeout=30)
    defs = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(defs)
    assert set(defs.signature_def) >= {"serving_default", "serving_examples"}
    assert set(defs.signature_def["serving_default"].inputs) == set(COLUMNS)
    assert response.model_spec.version.value == V2

    status = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "ad_click"}), timeout=30
    )
    (entry,) = status.model_version_status
    assert entry.version == V2 and entry.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE


@pytest.mark.parametrize(
    "change, code, message",
    [
        ({"name": "unknown"}, grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(unknown)"),
        ({"version_label": "canary"}, grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: canary"),
        ({"signature_name": "nope"}, grpc.StatusCode.INVALID_ARGUMENT, 'Serving signature name: "nope" not found'),
        ({"timestamp": "yesterday"}, grpc.StatusCode.INVALID_ARGUMENT, "column 'timestamp': expected"),
        ({"drop": "age"}, grpc.StatusCode.INVALID_ARGUMENT, "Missing input(s) of signature 'serving_default': age"),
    ],
)
def test_errors_are_tf_serving_statuses(
    channel: grpc.Channel, change: dict[str, str], code: grpc.StatusCode, message: str
) -> None:
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    row = {**ROW, "timestamp": change.pop("timestamp", ROW["timestamp"])}
    drop = change.pop("drop", None)
    request = predict_request([row])
    if drop:
        del request.inputs[drop]
    for key, value in change.items():
        setattr(request.model_spec, key, value)
    with pytest.raises(grpc.RpcError) as info:
        prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=30)
    assert info.value.code() == code
    assert message in info.value.details()
