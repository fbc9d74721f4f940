"""The generic TF Transform ``preprocessing_fn``, driven by the feature spec.

Every output is a dense ``[batch, 1]`` tensor named after its feature (timestamp
parts get ``<feature>_<part>``): float32 for numeric transforms, int64 ids in
``[0, cardinality)`` for categorical ones.

Missing values (a feature the schema lets be absent arrives sparse): a numeric one
becomes the mean of the present values (a TFT analyzer, so serving imputes exactly
as training did) plus a 0/1 ``<feature>__missing`` indicator; a categorical one
becomes '' (an out-of-vocabulary id, or its own hash bucket).

The label becomes the training target: binary -> int64 0/1 (``positive`` names the
positive value when labels are strings such as Yes/No), multiclass -> int64 index
into ``classes``, regression -> float32.
"""

from __future__ import annotations

from typing import Any

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tensorflow as tf
import tensorflow_transform as tft

from components.spec import MISSING_SUFFIX, FeatureSpec

_EPOCH = "1970-01-01 00:00:00"


def is_sparse(x: Any) -> bool:
    return isinstance(x, (tf.SparseTensor, tf.RaggedTensor))


def _to_column(x: Any, numeric: bool) -> tf.Tensor:
    """Any raw input (dense [B] or [B,1], sparse or ragged with missing values) -> dense [B, 1].

    Missing numeric values become the mean of the present ones; missing categorical
    values become '' (non-string categorical values are turned into strings first).
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
        x = tf.SparseTensor(x.indices, _as_string(x.values), x.dense_shape)
        return tft.sparse_tensor_to_dense_with_shape(x, [None, 1], default_value="")
    x = tf.reshape(x, [-1, 1])
    return tf.cast(x, tf.float32) if numeric else x


def _missing_indicator(x: Any) -> tf.Tensor:
    """1.0 where a sparse [B, 1] input has no value, else 0.0; [B, 1] float32."""
    if isinstance(x, tf.RaggedTensor):
        x = x.to_sparse()
    present = tf.SparseTensor(x.indices, tf.ones_like(x.values, dtype=tf.float32), x.dense_shape)
    dense = tft.sparse_tensor_to_dense_with_shape(present, [None, 1], default_value=0.0)
    return 1.0 - dense


def _as_string(x: tf.Tensor) -> tf.Tensor:
    return x if x.dtype == tf.string else tf.strings.as_string(x)


def _timestamp_parts(s: tf.Tensor, parts: list[str]) -> dict[str, tf.Tensor]:
    """'YYYY-MM-DD HH:MM:SS' (or 'YYYY-MM-DD') strings -> hour [0,24), day_of_week [0,7) (Monday=0),
    month [0,12). A value that is neither reads as the epoch."""
    s = _as_string(s)
    s = tf.where(tf.strings.regex_full_match(s, r"\d{4}-\d{2}-\d{2}"), s + " 00:00:00", s)
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
    if numeric and is_sparse(raw):
        return {**_numeric(name, kind, f, x), name + MISSING_SUFFIX: _missing_indicator(raw)}
    if numeric:
        return _numeric(name, kind, f, x)
    if kind == "vocabulary":
        return {name: tft.compute_and_apply_vocabulary(
            _as_string(x), top_k=f.get("top_k"), num_oov_buckets=f["oov_buckets"], vocab_filename=name)}
    if kind == "hash":
        return {name: tf.strings.to_hash_bucket_fast(_as_string(x), f["hash_buckets"])}
    if kind == "timestamp":
        return {f"{name}_{part}": t for part, t in _timestamp_parts(x, f["parts"]).items()}
    raise ValueError(f"feature {name!r}: unknown transform {kind!r}")


def _numeric(name: str, kind: str, f: dict[str, Any], x: tf.Tensor) -> dict[str, tf.Tensor]:
    if kind == "zscore":
        return {name: tft.scale_to_z_score(x)}
    if kind == "minmax":
        return {name: tft.scale_to_0_1(x)}
    if kind == "log":
        return {name: tft.scale_to_z_score(tf.math.log1p(tf.maximum(x, 0.0)))}
    if kind == "passthrough":
        return {name: x}
    return {name: tft.bucketize(x, num_buckets=f["num_buckets"])}


def transform_label(spec: FeatureSpec, raw: Any) -> tf.Tensor:
    """The raw label -> the training target, [B, 1] (see the module docstring)."""
    if spec.task == "regression":
        return _to_column(raw, numeric=True)
    x = _to_column(raw, numeric=False)
    if spec.task == "multiclass":
        classes = tf.constant([str(c) for c in spec.classes or []])
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(classes, tf.range(tf.size(classes, out_type=tf.int64))), -1)
        return table.lookup(_as_string(x))
    if spec.positive is not None:
        return tf.cast(tf.equal(_as_string(x), str(spec.positive)), tf.int64)
    return tf.cast(x, tf.int64)


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, tf.Tensor]:
    """TF Transform entry point (``Transform(preprocessing_fn='components.transform.preprocessing_fn')``)."""
    spec = FeatureSpec.from_config(custom_config)
    outputs: dict[str, tf.Tensor] = {}
    for name, f in sorted(spec.features.items()):
        outputs.update(transform_feature(name, f, inputs[name]))
    if spec.label in inputs:
        outputs[spec.label] = transform_label(spec, inputs[spec.label])
    return outputs
