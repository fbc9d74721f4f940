"""The generic preprocessing_fn, run by real TF Transform on Beam over a handful of rows."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # imports TensorFlow, TF Transform and Beam (~30 s)

ROWS = [
    {"num": [1.0], "cat": [b"a"], "ts": [b"2016-03-27 00:53:11"], "opt": [2.0], "y": [1]},
    {"num": [2.0], "cat": [b"a"], "ts": [b"2016-01-01 23:00:00"], "opt": [], "y": [0]},
    {"num": [3.0], "cat": [b"b"], "ts": [b"garbage"], "opt": [4.0], "y": [1]},
    {"num": [4.0], "cat": [b"c"], "ts": [b"2016-12-31 12:30:00"], "opt": [], "y": [0]},
]
FEATURES = {
    "num": {"transform": "zscore"},
    "cat": {"transform": "vocabulary", "top_k": 1, "oov_buckets": 1},
    "ts": {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"]},
    "opt": {"transform": "passthrough"},
}


def transform(features: dict, tmp_path) -> dict[str, np.ndarray]:
    import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

    # isort: split
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from components.transform import preprocessing_fn

    spec = {
        "num": tf.io.FixedLenFeature([1], tf.float32),
        "cat": tf.io.FixedLenFeature([1], tf.string),
        "ts": tf.io.FixedLenFeature([1], tf.string),
        "opt": tf.io.VarLenFeature(tf.float32),
        "y": tf.io.FixedLenFeature([1], tf.int64),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    config = {"label": "y", "task": "binary", "features": features}
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (data, _), _ = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
    return {k: np.array([np.asarray(row[k]).reshape(-1)[0] for row in data]) for k in data[0]}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> dict[str, np.ndarray]:
    return transform(FEATURES, tmp_path_factory.mktemp("tft"))


def test_zscore(out) -> None:
    np.testing.assert_allclose(out["num"], (np.array([1, 2, 3, 4]) - 2.5) / np.std([1, 2, 3, 4]), rtol=1e-5)


def test_vocabulary_top_k_and_oov(out) -> None:
    assert out["cat"].tolist() == [0, 0, 1, 1]  # 'a' is the top-1 value; b and c share the OOV bucket


def test_timestamp_parts(out) -> None:
    # 2016-03-27 was a Sunday, 2016-01-01 a Friday, 2016-12-31 a Saturday; garbage -> 1970-01-01 (Thursday).
    assert out["ts_hour"].tolist() == [0, 23, 0, 12]
    assert out["ts_day_of_week"].tolist() == [6, 4, 3, 5]
    assert out["ts_month"].tolist() == [2, 0, 0, 11]


def test_missing_numeric_values_get_the_mean(out) -> None:
    assert out["opt"].tolist() == [2.0, 3.0, 4.0, 3.0]


def test_label_passes_through_and_drop_drops(tmp_path) -> None:
    res = transform(
        {
            "num": {"transform": "minmax"},
            "cat": {"transform": "hash", "hash_buckets": 7},
            "ts": {"transform": "drop"},
            "opt": {"transform": "log"},
        },
        tmp_path,
    )
    assert set(res) == {"num", "cat", "opt", "opt__missing", "y"}  # an optional numeric gets an is-missing input
    assert res["opt__missing"].ravel().tolist() == [0.0, 1.0, 0.0, 1.0]
    np.testing.assert_allclose(res["num"], [0, 1 / 3, 2 / 3, 1], rtol=1e-5)
    assert ((res["cat"] >= 0) & (res["cat"] < 7)).all() and res["cat"][0] == res["cat"][1]
    assert res["y"].tolist() == [1, 0, 1, 0]
    assert abs(res["opt"].mean()) < 1e-5  # log1p then z-score


def test_every_registered_transform_yields_its_model_inputs() -> None:
    """Traced (no Beam): each transform's TF outputs are its model inputs, float32 numeric, int64 categorical."""
    import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

    # isort: split
    import tensorflow as tf

    from components.spec import MISSING_SUFFIX, FeatureSpec
    from components.transform import preprocessing_fn
    from components.transforms import REGISTRY

    samples = {
        "bucketize": {"num_buckets": 5},
        "vocabulary": {"oov_buckets": 1},
        "hash": {"hash_buckets": 7},
        "timestamp": {"parts": ["hour", "day_of_week", "month"]},
    }
    features = {f"x_{name}": {"transform": name, **samples.get(name, {})} for name in REGISTRY}
    config = {"label": "y", "task": "binary", "features": features}
    with tf.compat.v1.Graph().as_default():
        inputs: dict = {
            name: tf.compat.v1.placeholder(tf.float32 if t.column == "numeric" else tf.string, [None, 1])
            for name, t in ((n, REGISTRY[f["transform"]]) for n, f in features.items())
        }
        inputs["x_optional"] = tf.compat.v1.sparse_placeholder(tf.float32, [None, 1])
        config["features"]["x_optional"] = {"transform": "zscore"}
        inputs["y"] = tf.compat.v1.placeholder(tf.int64, [None, 1])
        out = preprocessing_fn(inputs, config)
    model_inputs = FeatureSpec.from_config(config).model_inputs()
    assert set(out) == {m.name for m in model_inputs} | {"y", "x_optional" + MISSING_SUFFIX}
    for m in model_inputs:
        assert out[m.name].dtype == (tf.float32 if m.kind == "numeric" else tf.int64), m
