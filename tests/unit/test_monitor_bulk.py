"""The bulk decoder of request-log files gives what the record-by-record reader gives, or hands over to it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pipelines.monitoring.bulk import decode_predict_file
from pipelines.monitoring.logs import _META, _general
from pipelines.serving.request_log import LogMeta, build_log


def _tensor(values: Any, dtype: Any, packed: bool, shape: list[int] | None = None) -> Any:
    """A TensorProto: ``packed`` as tensor_content (what make_tensor_proto writes), else the repeated field."""
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2

    array = np.asarray(values, dtype=dtype)
    if packed or array.dtype == object:
        return tf.make_tensor_proto(array, shape=shape)
    proto = tensor_pb2.TensorProto(dtype=tf.as_dtype(array.dtype).as_datatype_enum)
    proto.tensor_shape.CopyFrom(
        tensor_shape_pb2.TensorShapeProto(dim=[{"size": d} for d in (shape or list(array.shape))])
    )
    field = {np.float32: "float_val", np.float64: "double_val", np.int64: "int64_val", np.int32: "int_val"}
    getattr(proto, field[array.dtype.type]).extend(array.reshape(-1).tolist())
    return proto


def _record(i: int, t: int, inputs: dict[str, Any], outputs: dict[str, Any], label: str = "stable") -> bytes:
    from tensorflow_serving.apis import predict_pb2

    request, response = predict_pb2.PredictRequest(), predict_pb2.PredictResponse()
    for name, tensor in inputs.items():
        request.inputs[name].CopyFrom(tensor)
    for name, tensor in outputs.items():
        response.outputs[name].CopyFrom(tensor)
    meta = LogMeta(f"r{i}", "ad_click", 3 if label == "canary" else 2, label, "serving_default", t)
    return build_log(meta, "predict", request, response)


def _records() -> list[bytes]:
    """Multi-row and one-row requests; packed and repeated values; TF's compact form (one value for
    three rows); an input some requests lack; a request with no version label; float32, float64,
    int32, int64 and strings."""
    out = []
    for i in range(6):
        n = 1 + i % 3
        packed = i % 2 == 0
        inputs = {
            "age": _tensor(np.arange(n) + 20 + i, np.int64, packed),
            "income": _tensor(np.linspace(1.5, 2.5, n) * (i + 1), np.float32, packed),
            "score": _tensor(np.full(n, 0.25 + i), np.float64, packed),
            "count": _tensor(np.arange(n, dtype=np.int32), np.int32, packed),
            "city": _tensor(np.array([f"city-{i}-{k}".encode() for k in range(n)], dtype=object), object, packed),
        }
        if i == 4:
            inputs["age"] = _tensor([77], np.int64, False, shape=[n])  # compact: one value for every row
        if i != 3:
            inputs["extra"] = _tensor(np.full(n, i, dtype=np.int64), np.int64, packed)
        prob = _tensor(np.linspace(0.1, 0.9, n), np.float32, packed, shape=[n, 1])
        out.append(_record(i, 1000 + i, inputs, {"probabilities": prob}, label="" if i == 5 else "stable"))
    return out


def _same(bulk: dict[str, Any], general: dict[str, Any]) -> None:
    """Equal values (floats to float32 precision: both readers widen the same float32 values)."""
    assert set(bulk["columns"]) == set(general["columns"])
    for name, values in [*general["columns"].items(), *((k, general[k]) for k in ("prediction", *_META))]:
        got = bulk["columns"][name] if name in bulk["columns"] else bulk[name]
        assert len(got) == len(values), name
        for a, b in zip(got, values, strict=True):
            assert (a == pytest.approx(b, rel=1e-6)) if isinstance(b, float) else a == b, (name, a, b)


@pytest.mark.parametrize(("since", "until"), [(None, None), (1002, 1005), (1002, None), (2000, None)])
def test_bulk_equals_the_record_by_record_reader(since: int | None, until: int | None) -> None:
    records = _records()
    bulk, general = decode_predict_file(records, since, until), _general(records, since, until)
    if not general:
        assert bulk == {}
        return
    _same(bulk, general)
    extra = bulk["columns"]["extra"]
    rows_of_3 = [i for i, r in enumerate(bulk["request_id"]) if r == "r3"]
    assert [extra[i] for i in rows_of_3] == [None] * len(rows_of_3) or not rows_of_3
    assert "-" in bulk["label"] or 1005 not in bulk["time"] or until == 1005


def test_other_logs_and_scores_are_left_to_the_general_reader() -> None:
    from tensorflow_serving.apis import classification_pb2

    scores = _record(0, 1, {"age": _tensor([1], np.int64, True)}, {"scores": _tensor([[0.2, 0.8]], np.float32, True)})
    assert decode_predict_file([scores], None, None) is None
    classify = build_log(
        LogMeta("c", "m", 1, "", "serving_default", 1),
        "classify",
        classification_pb2.ClassificationRequest(),
        classification_pb2.ClassificationResponse(),
    )
    assert decode_predict_file([*_records(), classify], None, None) is None


@pytest.mark.parametrize(
    ("name", "values", "shape", "match"),
    [
        ("logits", [0.5, 0.5], [2, 1], "no probabilities/predictions/scores output"),
        ("probabilities", [0.1, 0.2, 0.3], [2, 1], "a tensor of 3 values beside 2 predictions"),
    ],
)
def test_a_record_that_does_not_fit_fails_the_file_as_the_general_reader_does(
    name: str, values: list[float], shape: list[int], match: str
) -> None:
    outputs = {name: _tensor(values, np.float32, False, shape=shape)}
    records = [_record(0, 1, {"age": _tensor([1, 2], np.int64, True)}, outputs)]
    for reader in (decode_predict_file, _general):
        with pytest.raises(ValueError, match=match):
            reader(records, None, None)
