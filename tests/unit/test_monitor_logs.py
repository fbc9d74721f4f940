"""The request log read back as a table: real PredictionLog records framed by the server's writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.monitoring.logs import PREDICTION, read_log_table
from pipelines.serving.request_log import LogMeta, build_log, frame


def predict_record(request_id: str, version: int, label: str, t: float, ages: list[int], probs: list[float]) -> bytes:
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.inputs["age"].CopyFrom(tf.make_tensor_proto(np.array(ages, dtype=np.int64)))
    request.inputs["city"].CopyFrom(tf.make_tensor_proto(np.array([b"Paris"] * len(ages), dtype=object)))
    response = predict_pb2.PredictResponse()
    response.outputs["probabilities"].CopyFrom(tf.make_tensor_proto(np.array(probs, dtype=np.float32)))
    meta = LogMeta(request_id, "ad_click", version, label, "serving_default", t)
    return frame(build_log(meta, "predict", request, response))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("log")
    first = predict_record("r1", 7, "stable", 1000, [30, 40], [0.1, 0.9]) + predict_record(
        "r2", 8, "canary", 1005, [50], [0.5]
    )
    (folder / "requests-20260101T000000-1-000001.tfrecord").write_bytes(first)
    (folder / "requests-20260101T000010-1-000002.tfrecord").write_bytes(
        predict_record("r3", 7, "stable", 2000, [60], [0.7])
    )
    return folder


def test_rows_per_instance_with_who_answered(log_dir: Path) -> None:
    table = read_log_table(str(log_dir))
    df = table.frame.sort_values(["time", "index"])
    assert table.files == 2 and not table.problems
    assert df["age"].tolist() == [30, 40, 50, 60]
    assert df["city"].tolist() == ["Paris"] * 4
    assert np.allclose(df[PREDICTION], [0.1, 0.9, 0.5, 0.7])
    assert df["request_id"].tolist() == ["r1", "r1", "r2", "r3"]
    assert df["index"].tolist() == [0, 1, 0, 0]
    assert df["version"].tolist() == [7, 7, 8, 7]
    assert df["label"].tolist() == ["stable", "stable", "canary", "stable"]


def test_time_window_is_half_open(log_dir: Path) -> None:
    assert read_log_table(str(log_dir), since=1005, until=2000).frame["request_id"].tolist() == ["r2"]


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda b: b[:-3], "truncated TFRecord at byte"),
        (lambda b: b[:5], "truncated TFRecord header"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), "fails its CRC"),
        (lambda b: b"not a tfrecord file at all, just text", "truncated"),
    ],
)
def test_corrupt_file_is_reported_and_skipped(log_dir: Path, tmp_path: Path, damage, match: str) -> None:
    for f in log_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    good = (tmp_path / "requests-20260101T000010-1-000002.tfrecord").read_bytes()
    bad = tmp_path / "requests-20260101T000020-1-000003.tfrecord"
    bad.write_bytes(damage(good))
    table = read_log_table(str(tmp_path))
    assert len(table.frame) == 4  # every other file still read
    [problem] = table.problems
    assert problem.startswith(str(bad)) and match in problem and "skipped" in problem


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    assert len(read_log_table(str(tmp_path / "nothing")).frame) == 0
