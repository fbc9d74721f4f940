"""The transform registry: every ``transform:`` a feature may declare, each in one entry.

An entry (:class:`Transform`) holds all there is to know about one transform:

- ``name``: the YAML value, ``age: {transform: zscore}`` (or the shorthand ``age: zscore``);
- ``config``: its pydantic model (``components.transform_configs``), the keys YAML may set;
- ``kind`` and ``outputs``: the model inputs it yields (numeric, categorical with a
  cardinality and an embedding size, tokens (a padded id sequence the model embeds and
  averages, for ``text``), or none for ``drop``);
- ``column`` and ``apply``: how TF Transform reads the raw column and the TF function
  that turns it into those inputs (TensorFlow is imported inside the function);
- ``serving_dtype``: the dtype of the raw column in the ``serving_default`` signature.
- ``serving_check``: what ``serving_default`` rejects before transforming (``timestamp``).

``pipelines.config`` builds the YAML union from it, ``components.spec`` the model
inputs, ``components.transform`` the ``preprocessing_fn`` and ``components.trainer``
the serving signature. Adding a transform type is a config class, a TF function and
one :class:`Transform` in :data:`REGISTRY`, in this module (the config classes in
``components.transform_configs``).

Cheap to import: pydantic only.

Example:
    >>> get("hash").model_inputs("city", {"transform": "hash", "hash_buckets": 64})
    [ModelInput(name='city', kind='categorical', cardinality=64, embedding_dim=None, length=None)]
    >>> get("bucketize").config(transform="bucketize").model_dump()
    {'transform': 'bucketize', 'num_buckets': 10, 'embedding_dim': None}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components.image_transform import Image, check_image, image_outputs, image_pixels, pixel_count
from components.transform_configs import (
    Bucketize,
    Drop,
    Hash,
    Log,
    MinMax,
    Passthrough,
    Text,
    Timestamp,
    TransformConfig,
    Vocabulary,
    ZScore,
)

__all__ = [
    "REGISTRY",
    "TIMESTAMP_CARDINALITY",
    "TRANSFORM_NAMES",
    "ModelInput",
    "Transform",
    "TransformConfig",
    "UnknownTransformError",
    "as_string",
    "check_timestamp",
    "for_feature",
    "get",
    "raw_serving_dtype",
    "tokenize",
]

TIMESTAMP_CARDINALITY = {"hour": 24, "day_of_week": 7, "month": 12}


@dataclass(frozen=True)
class ModelInput:
    """One transformed tensor the model consumes."""

    name: str
    kind: str  # "numeric", "categorical" ([B, 1] ids), "tokens" ([B, length] ids, 0 = padding) or "image"
    cardinality: int | None = None  # ids are in [0, cardinality); None = from TFT's schema
    embedding_dim: int | None = None
    length: int | None = None  # tokens: ids per row; image: pixel values per row (height*width*channels)


class UnknownTransformError(ValueError):
    """A ``transform`` value no registry entry has."""


# --- config models: one per `transform:` value ------------------------------------------------
# --- TF functions: (feature name, its config dict, the dense [B, 1] column) -> {output: tensor} ---
# The column is float32 for `column="numeric"` (missing values are the mean already) and the raw
# values for `column="string"` (missing values are '').


def as_string(x: Any) -> Any:
    """A tensor as strings (ids and numbers through ``tf.strings.as_string``)."""
    import tensorflow as tf

    return x if x.dtype == tf.string else tf.strings.as_string(x)


def _zscore(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow_transform as tft

    return {name: tft.scale_to_z_score(x)}


def _minmax(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow_transform as tft

    return {name: tft.scale_to_0_1(x)}


def _log(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow as tf
    import tensorflow_transform as tft

    return {name: tft.scale_to_z_score(tf.math.log1p(tf.maximum(x, 0.0)))}


def _passthrough(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    return {name: x}


def _bucketize(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow_transform as tft

    return {name: tft.bucketize(x, num_buckets=f["num_buckets"])}


def _vocabulary(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow_transform as tft

    return {
        name: tft.compute_and_apply_vocabulary(
            as_string(x), top_k=f.get("top_k"), num_oov_buckets=f["oov_buckets"], vocab_filename=name
        )
    }


def _hash(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    import tensorflow as tf

    return {name: tf.strings.to_hash_bucket_fast(as_string(x), f["hash_buckets"])}


# --- timestamp and text: strings read as more than one category ---------------------------------
# timestamp: in training a value that does not parse reads as the epoch (ExampleValidator and the
# schema judge the data); serving_default runs check_timestamp first, so "yesterday" is a 400 naming
# the column, never a prediction. text: tokenize (one graph for training and serving), then a
# vocabulary of the top_k words (+ oov_buckets); ids shifted by one so 0 pads to max_tokens.

TIMESTAMP_FORMAT = "YYYY-MM-DD HH:MM:SS"
_EPOCH = "1970-01-01 00:00:00"
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?.*"
EMPTY_TEXT = "__empty__"  # the one token of a blank or missing text, so its average is a learned vector


def _parses(s: Any) -> Any:
    """Whether each string is a date or a date-time ('' is not)."""
    import tensorflow as tf

    return tf.logical_or(tf.strings.regex_full_match(s, _DATE), tf.strings.regex_full_match(s, _DATETIME))


def check_timestamp(name: str, f: Mapping[str, Any], x: Any) -> Any:
    """``x`` (a serving input, any shape) unchanged, after asserting every value is '' (missing) or parses.

    Raises (when the graph runs):
        tf.errors.InvalidArgumentError: ``timestamp column ts: expected YYYY-MM-DD HH:MM:SS ..., got [yesterday]``.
    """
    import tensorflow as tf

    s = tf.reshape(as_string(x), [-1])
    ok = tf.logical_or(tf.equal(s, ""), _parses(s))
    bad = tf.boolean_mask(s, tf.logical_not(ok))[:3]
    # No quotes: the Assert op prints its data C-escaped, so a 400's JSON would show \\'.
    message = f"timestamp column {name}: expected {TIMESTAMP_FORMAT} (or YYYY-MM-DD, or empty for missing), got"
    with tf.control_dependencies([tf.debugging.Assert(tf.reduce_all(ok), [message, bad], summarize=3)]):
        return tf.identity(x)


def timestamp_parts(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    """'YYYY-MM-DD HH:MM:SS' (or 'YYYY-MM-DD') strings -> hour [0,24), day_of_week [0,7) (Monday=0),
    month [0,12), as ``<name>_<part>``. A value that is neither (or '', missing) reads as the epoch."""
    import tensorflow as tf

    parts = f["parts"]
    s = as_string(x)
    s = tf.where(tf.strings.regex_full_match(s, _DATE), s + " 00:00:00", s)
    s = tf.where(tf.strings.regex_full_match(s, _DATETIME), s, _EPOCH)

    def num(pos: int, length: int) -> Any:
        return tf.strings.to_number(tf.strings.substr(s, pos, length), out_type=tf.int64)

    year, month, day, hour = num(0, 4), tf.clip_by_value(num(5, 2), 1, 12), num(8, 2), num(11, 2)
    out: dict[str, Any] = {}
    if "hour" in parts:
        out[f"{name}_hour"] = tf.clip_by_value(hour, 0, 23)
    if "month" in parts:
        out[f"{name}_month"] = month - 1
    if "day_of_week" in parts:
        # Days since 1970-01-01 (H. Hinnant's days_from_civil), which was a Thursday.
        y = year - tf.cast(month <= 2, tf.int64)
        era = tf.math.floordiv(y, 400)
        yoe = y - era * 400
        mp = tf.where(month > 2, month - 3, month + 9)
        doy = tf.math.floordiv(153 * mp + 2, 5) + day - 1
        doe = yoe * 365 + tf.math.floordiv(yoe, 4) - tf.math.floordiv(yoe, 100) + doy
        days = era * 146097 + doe - 719468
        out[f"{name}_day_of_week"] = tf.math.floormod(days + 3, 7)
    return out


def tokenize(x: Any, max_tokens: int) -> Any:
    """Strings (any shape, one text each) -> a ``[batch, None]`` RaggedTensor of at most ``max_tokens``
    lower-case tokens; a text with none gets the single token :data:`EMPTY_TEXT`.

    Example:
        >>> tokenize(tf.constant([["Called twice, said: TOO expensive!"], [""]]), 3).to_list()
        [[b'called', b'twice', b'said'], [b'__empty__']]
    """
    import tensorflow as tf

    s = tf.strings.lower(tf.reshape(as_string(x), [-1]), encoding="utf-8")
    s = tf.strings.regex_replace(s, r"[^\pL\pN\s]+", " ")  # punctuation and symbols split words, like spaces
    s = tf.where(tf.equal(tf.strings.strip(s), ""), EMPTY_TEXT, s)
    return tf.strings.split(s)[:, :max_tokens]


def text_ids(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    """[B, 1] strings -> ``{name: [B, max_tokens] int64}``: token ids + 1, 0 after the last token."""
    import tensorflow as tf
    import tensorflow_transform as tft

    tokens = tokenize(x, f["max_tokens"]).to_sparse()
    ids = tft.compute_and_apply_vocabulary(
        tokens, top_k=f["top_k"], num_oov_buckets=f["oov_buckets"], vocab_filename=name
    )
    shifted = tf.SparseTensor(ids.indices, ids.values + 1, ids.dense_shape)
    return {name: tft.sparse_tensor_to_dense_with_shape(shifted, [None, f["max_tokens"]], default_value=0)}


# --- outputs: (feature name, its config dict) -> [(model input name, cardinality or None)] ------


def _one(cardinality_key: str | None = None) -> Callable[[str, Mapping[str, Any]], list[tuple[str, int | None]]]:
    """One output named after the feature; its cardinality from ``cardinality_key`` (None: TFT's)."""

    def outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
        return [(name, f[cardinality_key] if cardinality_key else None)]

    return outputs


_single = _one()


def _timestamp_outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    return [(f"{name}_{part}", TIMESTAMP_CARDINALITY[part]) for part in f["parts"]]


def _text_outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    return [(name, f["top_k"] + f["oov_buckets"] + 1)]  # + 1: id 0 pads


def _no_outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    return []


def raw_serving_dtype(fs: Any) -> Any:
    """A raw column's ``serving_default`` dtype: its own, but an optional integer takes float64 (NaN = missing)."""
    import tensorflow as tf

    if isinstance(fs, tf.io.VarLenFeature) and fs.dtype.is_integer:
        return tf.float64
    return fs.dtype


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transform:
    """One ``transform:`` value and everything that follows from it.

    Attributes:
        name: The YAML value.
        config: Its pydantic model; ``model_dump()`` of it is what ``custom_config`` carries.
        kind: ``numeric`` (float32 inputs), ``categorical`` (int64 ids, embedded), ``tokens``
            (``[B, max_tokens]`` int64 ids, 0 = padding, embedded and averaged) or ``drop``.
        column: How the raw column reaches ``apply``: ``numeric`` (float32; a missing value is
            the mean of the present ones, plus a 0/1 ``<feature>__missing`` model input) or
            ``string`` (as read; a missing value is ''). None for ``drop``.
        apply: The TF function, ``(name, config dict, column) -> {output name: [B, 1] tensor}``
            (``[B, max_tokens]`` for ``tokens``).
        outputs: ``(name, config dict) -> [(output name, cardinality)]``, the same names ``apply``
            returns; a cardinality of None means "TFT's vocabulary size".
        serving_dtype: The raw column's ``tf.io`` feature spec -> its ``serving_default`` dtype.
        serving_check: ``(name, config dict, serving input) -> the same tensor``, failing the
            request (``InvalidArgumentError`` naming the column) on a value ``apply`` cannot read;
            run by ``serving_default`` only, training data being the validator's to judge.

    Example:
        >>> get("timestamp").model_inputs("ts", {"transform": "timestamp", "parts": ["hour"]})
        [ModelInput(name='ts_hour', kind='categorical', cardinality=24, embedding_dim=None, length=None)]
    """

    name: str
    config: type[TransformConfig]
    kind: Literal["numeric", "categorical", "tokens", "image", "drop"]
    column: Literal["numeric", "string"] | None
    apply: Callable[[str, Mapping[str, Any], Any], dict[str, Any]] | None
    outputs: Callable[[str, Mapping[str, Any]], list[tuple[str, int | None]]] = _single
    serving_dtype: Callable[[Any], Any] = raw_serving_dtype
    serving_check: Callable[[str, Mapping[str, Any], Any], Any] | None = None

    @property
    def served(self) -> bool:
        """Whether the ``serving_default`` signature takes this feature (``drop`` ones are not)."""
        return self.kind != "drop"

    def model_inputs(self, name: str, f: Mapping[str, Any]) -> list[ModelInput]:
        """The model inputs of feature ``name`` whose config dict is ``f``."""
        if self.kind == "numeric":
            return [ModelInput(out, "numeric") for out, _ in self.outputs(name, f)]
        if self.kind == "image":  # [B, height*width*channels] pixels in [0, 1] (components.image_transform)
            return [ModelInput(out, "image", length=pixel_count(f)) for out, _ in self.outputs(name, f)]
        dim = f.get("embedding_dim")
        if self.kind == "tokens":
            return [ModelInput(out, "tokens", card, dim, f["max_tokens"]) for out, card in self.outputs(name, f)]
        return [ModelInput(out, "categorical", card, dim) for out, card in self.outputs(name, f)]


REGISTRY: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("zscore", ZScore, "numeric", "numeric", _zscore),
        Transform("minmax", MinMax, "numeric", "numeric", _minmax),
        Transform("log", Log, "numeric", "numeric", _log),
        Transform("passthrough", Passthrough, "numeric", "numeric", _passthrough),
        Transform("bucketize", Bucketize, "categorical", "numeric", _bucketize, _one("num_buckets")),
        Transform("vocabulary", Vocabulary, "categorical", "string", _vocabulary),
        Transform("hash", Hash, "categorical", "string", _hash, _one("hash_buckets")),
        Transform(
            "timestamp",
            Timestamp,
            "categorical",
            "string",
            timestamp_parts,
            _timestamp_outputs,
            serving_check=check_timestamp,
        ),
        Transform("text", Text, "tokens", "string", text_ids, _text_outputs),
        Transform("image", Image, "image", "string", image_pixels, image_outputs, serving_check=check_image),
        Transform("drop", Drop, "drop", None, None, _no_outputs),
    )
}
TRANSFORM_NAMES: tuple[str, ...] = tuple(REGISTRY)


def get(name: str) -> Transform:
    """The registry entry of ``name``.

    Raises:
        UnknownTransformError: ``name`` is not a transform; the message lists the allowed ones.

    Example:
        >>> get("zscore").kind
        'numeric'
    """
    try:
        return REGISTRY[name]
    except KeyError as exc:
        raise UnknownTransformError(f"unknown transform {name!r}; allowed: {', '.join(TRANSFORM_NAMES)}") from exc


def for_feature(name: str, f: Mapping[str, Any]) -> Transform:
    """The entry of feature ``name``'s config dict ``f`` (``{"transform": ..., ...}``).

    Raises:
        UnknownTransformError: ``feature 'a': unknown transform 'sqrt'; allowed: ...``.

    Example:
        >>> for_feature("age", {"transform": "log"}).column
        'numeric'
    """
    try:
        return get(f["transform"])
    except (UnknownTransformError, KeyError) as exc:
        what = str(exc) if isinstance(exc, UnknownTransformError) else "has no 'transform'"
        raise UnknownTransformError(f"feature {name!r}: {what}") from exc
