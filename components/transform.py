"""The generic TF Transform ``preprocessing_fn``, driven by the feature spec.

Every output is a dense ``[batch, 1]`` tensor named after its feature (timestamp
parts get ``<feature>_<part>``): float32 for numeric transforms, int64 ids in
``[0, cardinality)`` for categorical ones. The label is passed through as int64.
"""

from __future__ import annotations

from typing import Any

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf
import tensorflow_transform as tft

from components.spec import FeatureSpec

_EPOCH = "1970-01-01 00:00:00"


def _to_column(x: Any, numeric: bool) -> tf.Tensor:
    """Any raw input (dense [B] or [B,1], sparse or ragged with missing values) -> dense [B, 1].

    Missing numeric values become the mean of the present ones (a TFT analyzer, so
    serving imputes exactly as training did); missing strings become '' (OOV).
    """
    if isinstance(x, tf.RaggedTensor):
        x = x.to_sparse()
    if isinstance(x, tf.SparseTensor):
        if numeric:
            values = tf.cast(x.values, tf.float32)
            mean = tft.mean(values)
            x = tf.SparseTensor(x.indices, values, x.dense_shape)
            dense = tft.sparse_tensor_to_dense_with_shape(x, [None, 1], default_value=float("nan"))
            return tf.where(tf.math.is_nan(dense), mean, dense)
        default = "" if x.dtype == tf.string else tf.constant(0, x.dtype)
        return tft.sparse_tensor_to_dense_with_shape(x, [None, 1], default_value=default)
    x = tf.reshape(x, [-1, 1])
    return tf.cast(x, tf.float32) if numeric else x


def _as_string(x: tf.Tensor) -> tf.Tensor:
    return x if x.dtype == tf.string else tf.strings.as_string(x)


def _timestamp_parts(s: tf.Tensor, parts: list[str]) -> dict[str, tf.Tensor]:
    """'YYYY-MM-DD HH:MM:SS' strings -> hour [0,24), day_of_week [0,7) (Monday=0), month [0,12)."""
    s = _as_string(s)
    valid = tf.strings.regex_full_match(s, r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?.*")
    s = tf.where(valid, s, _EPOCH)

    def num(pos: int, length: int) -> tf.Tensor:
        return tf.strings.to_number(tf.strings.substr(s, pos, length), out_type=tf.int64)

    year, month, day, hour = num(0, 4), tf.clip_by_value(num(5, 2), 1, 12), num(8, 2), num(11, 2)
    out: dict[str, tf.Tensor] = {}
    if "hour" in parts:
        out["hour"] = tf.clip_by_value(hour, 0, 23)
    if "month" in parts:
        out["month"] = month - 1
    if "day_of_week" in parts:
        # Days since 1970-01-01 (H. Hinnant's days_from_civil), which was a Thursday.
        y = year - tf.cast(month <= 2, tf.int64)
        era = tf.math.floordiv(y, 400)
        yoe = y - era * 400
        mp = tf.where(month > 2, month - 3, month + 9)
        doy = tf.math.floordiv(153 * mp + 2, 5) + day - 1
        doe = yoe * 365 + tf.math.floordiv(yoe, 4) - tf.math.floordiv(yoe, 100) + doy
        days = era * 146097 + doe - 719468
        out["day_of_week"] = tf.math.floormod(days + 3, 7)
    return out


def transform_feature(name: str, f: dict[str, Any], raw: Any) -> dict[str, tf.Tensor]:
    """Apply one feature's declared transform; returns the output tensors by name."""
    kind = f["transform"]
    if kind == "drop":
        return {}
    numeric = kind in ("zscore", "minmax", "log", "passthrough", "bucketize")
    x = _to_column(raw, numeric=numeric)
    if kind == "zscore":
        return {name: tft.scale_to_z_score(x)}
    if kind == "minmax":
        return {name: tft.scale_to_0_1(x)}
    if kind == "log":
        return {name: tft.scale_to_z_score(tf.math.log1p(tf.maximum(x, 0.0)))}
    if kind == "passthrough":
        return {name: x}
    if kind == "bucketize":
        return {name: tft.bucketize(x, num_buckets=f["num_buckets"])}
    if kind == "vocabulary":
        return {name: tft.compute_and_apply_vocabulary(
            _as_string(x), top_k=f.get("top_k"), num_oov_buckets=f["oov_buckets"], vocab_filename=name)}
    if kind == "hash":
        return {name: tf.strings.to_hash_bucket_fast(_as_string(x), f["hash_buckets"])}
    if kind == "timestamp":
        return {f"{name}_{part}": t for part, t in _timestamp_parts(x, f["parts"]).items()}
    raise ValueError(f"feature {name!r}: unknown transform {kind!r}")


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, tf.Tensor]:
    """TF Transform entry point (``Transform(preprocessing_fn='components.transform.preprocessing_fn')``)."""
    spec = FeatureSpec.from_config(custom_config)
    outputs: dict[str, tf.Tensor] = {}
    for name, f in sorted(spec.features.items()):
        outputs.update(transform_feature(name, f, inputs[name]))
    if spec.label in inputs:
        outputs[spec.label] = tf.cast(_to_column(inputs[spec.label], numeric=False), tf.int64)
    return outputs
