"""The generic preprocessing_fn, run by real TF Transform on Beam over a handful of rows."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # imports TensorFlow, TF Transform and Beam (~30 s)

ROWS = [
    {
        "num": [1.0],
        "cat": [b"a"],
        "ts": [b"2016-03-27 00:53:11"],
        "opt": [2.0],
        "desc": [b"Great, great service!"],
        "y": [1],
    },
    {"num": [2.0], "cat": [b"a"], "ts": [b"2016-01-01 23:00:00"], "opt": [], "desc": [b"bad SERVICE"], "y": [0]},
    {"num": [3.0], "cat": [b"b"], "ts": [b"garbage"], "opt": [4.0], "desc": [b""], "y": [1]},
    {"num": [4.0], "cat": [b"c"], "ts": [b"2016-12-31 12:30:00"], "opt": [], "desc": [b"great... value"], "y": [0]},
]
FEATURES = {
    "num": {"transform": "zscore"},
    "cat": {"transform": "vocabulary", "top_k": 1, "oov_buckets": 1},
    "ts": {"transform": "timestamp", "parts": ["hour", "day_of_week", "month"]},
    "opt": {"transform": "passthrough"},
    "desc": {"transform": "text", "top_k": 2, "oov_buckets": 1, "max_tokens": 3},
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
        "desc": tf.io.FixedLenFeature([1], tf.string),
        "y": tf.io.FixedLenFeature([1], tf.int64),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    config = {"label": "y", "task": "binary", "features": features}
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (data, _), _ = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
    return {
        k: np.array([np.asarray(row[k]).reshape(-1) if k == "desc" else row[k][0] for row in data]) for k in data[0]
    }


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


def test_text_tokens_vocabulary_and_padding(out) -> None:
    # Lower-cased, punctuation stripped; top 2 words great (3) and service (2) are ids 1 and 2, any
    # other word the OOV id 3; 0 pads to max_tokens. A blank text is one (OOV) token, never no token.
    assert out["desc"].tolist() == [[1, 1, 2], [3, 2, 0], [3, 0, 0], [1, 3, 0]]


def test_text_model_input_is_a_token_sequence() -> None:
    from components.transforms import get

    (mi,) = get("text").model_inputs("desc", get("text").config(transform="text", top_k=100).model_dump())
    assert (mi.kind, mi.cardinality, mi.length) == ("tokens", 100 + 1 + 1, 32)  # + OOV bucket + padding id


@pytest.mark.parametrize("bad", ["yesterday", "2023-13", "01/02/2023 10:00", " 2023-01-01"])
def test_serving_rejects_a_timestamp_that_does_not_parse(bad: str) -> None:
    """serving_default runs the timestamp entry's serving_check: an error naming the column, not a prediction."""
    import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

    # isort: split
    import tensorflow as tf

    from components.transforms import get

    check = tf.function(lambda x: get("timestamp").serving_check("signup_time", {}, x))
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=rf"timestamp column signup_time: expected YYYY-MM-DD HH:MM:SS .*\[{re.escape(bad)}\]",
    ):
        check(tf.constant(["2023-01-01 10:00:00", bad]))


def test_serving_accepts_timestamps_dates_and_missing() -> None:
    import components  # noqa: F401

    # isort: split
    import tensorflow as tf

    from components.transforms import get

    ok = [b"2023-01-01 10:00:00", b"2023-01-01", b"", b"2023-01-01T10:00"]  # '' = missing (optional column)
    check = tf.function(lambda x: get("timestamp").serving_check("ts", {}, x))
    assert check(tf.constant(ok)).numpy().tolist() == ok


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
    """Traced (no Beam): each transform's TF outputs are its model inputs, float32 numeric and pixels, int64 ids."""
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
        "text": {"top_k": 50, "oov_buckets": 1, "max_tokens": 4},
        "image": {"size": [8, 8], "channels": 3, "conv_filters": [4], "max_bad_fraction": 0.01},
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
        assert out[m.name].dtype == (tf.float32 if m.kind in ("numeric", "image") else tf.int64), m
        assert out[m.name].shape.as_list() == [None, m.length or 1], m


class _NoMissingInputs:
    """The one part of a TFTransformOutput build_model reads when every input's cardinality is known."""

    def transformed_feature_spec(self) -> dict:
        return {}


@pytest.mark.parametrize("model_type", ["dnn", "wide_and_deep"])
def test_model_averages_the_text_tokens_and_saves(model_type: str, tmp_path) -> None:
    """Padding (id 0) does not move the average; the model saves and reloads (tf-keras 2.16, legacy format)."""
    import components  # noqa: F401

    # isort: split
    import tensorflow as tf

    from components.spec import FeatureSpec
    from components.trainer import build_model

    features = {"desc": {"transform": "text", "top_k": 20, "oov_buckets": 1, "embedding_dim": 4, "max_tokens": 5}}
    spec = FeatureSpec.from_config(
        {
            "label": "y",
            "task": "binary",
            "features": features,
            "model": {"type": model_type, "hidden_units": [8], "dropout": 0.0, "embedding_dim": 8},
            "trainer": {"optimizer": "adam", "learning_rate": 0.01},
        }
    )
    model = build_model(spec, _NoMissingInputs())
    ids = tf.constant([[3, 7, 0, 0, 0], [3, 7, 3, 7, 0], [5, 0, 0, 0, 0]], tf.int64)
    pooled = tf.keras.Model(model.input, model.get_layer("desc_mean").output)({"desc": ids}).numpy()
    np.testing.assert_allclose(pooled[0], pooled[1], rtol=1e-6)  # same words, same mean, whatever the padding
    assert not np.allclose(pooled[0], pooled[2])
    p = model({"desc": ids}).numpy()
    model.save(str(tmp_path / "m"), save_format="tf", save_traces=False)
    again = tf.keras.models.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(again({"desc": ids}).numpy(), p, rtol=1e-5)
