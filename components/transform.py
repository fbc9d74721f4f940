"""The generic TF Transform ``preprocessing_fn``, driven by the feature spec.

Each feature goes through its transform's TF function from the registry
(``components.transforms``); this module reads the raw columns and the label.
Every output is a dense ``[batch, 1]`` tensor named after its feature (timestamp
parts get ``<feature>_<part>``): float32 for numeric transforms, int64 ids in
``[0, cardinality)`` for categorical ones; ``text`` gives ``[batch, max_tokens]`` int64
token ids, 0 after the last token.

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

# isort: split
import tensorflow as tf
import tensorflow_transform as tft

from components import transforms
from components.spec import MISSING_SUFFIX, FeatureSpec
from components.transforms import as_string as _as_string


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


def transform_feature(name: str, f: dict[str, Any], raw: Any) -> dict[str, tf.Tensor]:
    """Apply one feature's declared transform (``components.transforms``); returns the output tensors by name."""
    t = transforms.for_feature(name, f)
    if t.apply is None:
        return {}
    numeric = t.column == "numeric"
    out = t.apply(name, f, _to_column(raw, numeric=numeric))
    if numeric and is_sparse(raw):
        out[name + MISSING_SUFFIX] = _missing_indicator(raw)
    return out


def transform_label(spec: FeatureSpec, raw: Any) -> tf.Tensor:
    """The raw label -> the training target, [B, 1] (see the module docstring)."""
    if spec.task == "regression":
        return _to_column(raw, numeric=True)
    x = _to_column(raw, numeric=False)
    if spec.task == "multiclass":
        classes = tf.constant([str(c) for c in spec.classes or []])
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(classes, tf.range(tf.size(classes, out_type=tf.int64))), -1
        )
        return table.lookup(_as_string(x))
    if spec.positive is not None:
        return tf.cast(tf.equal(_as_string(x), str(spec.positive)), tf.int64)
    return tf.cast(x, tf.int64)


def stats_options_updater_fn(stats_type: Any, stats_options: Any, custom_config: dict[str, Any]) -> Any:
    """TF Transform's statistics options (``Transform(stats_options_updater_fn=...)``): pre-transform
    statistics of the label only.

    StatisticsGen already profiles every raw column and nothing reads Transform's pre-transform
    statistics; computing them whole repeated that pass over the training split. The
    post-transform statistics, which the TransformGate validates, stay whole.
    """
    if getattr(stats_type, "name", None) == "PRE_TRANSFORM":
        stats_options.feature_allowlist = [FeatureSpec.from_config(custom_config).label]
    return stats_options


def preprocessing_fn(inputs: dict[str, Any], custom_config: dict[str, Any]) -> dict[str, tf.Tensor]:
    """TF Transform entry point (``Transform(preprocessing_fn='components.transform.preprocessing_fn')``)."""
    spec = FeatureSpec.from_config(custom_config)
    outputs: dict[str, tf.Tensor] = {}
    for name, f in sorted(spec.features.items()):
        outputs.update(transform_feature(name, f, inputs[name]))
    if spec.label in inputs:
        outputs[spec.label] = transform_label(spec, inputs[spec.label])
    return outputs
