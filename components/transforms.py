"""The transform registry: every ``transform:`` a feature may declare, each in one entry.

An entry (:class:`Transform`) holds all there is to know about one transform:

- ``name``: the YAML value, ``age: {transform: zscore}`` (or the shorthand ``age: zscore``);
- ``config``: its pydantic model, the keys YAML may set next to ``transform``;
- ``kind`` and ``outputs``: the model inputs it yields (numeric, categorical with a
  cardinality and an embedding size, or none for ``drop``);
- ``column`` and ``apply``: how TF Transform reads the raw column and the TF function
  that turns it into those inputs (TensorFlow is imported inside the function);
- ``serving_dtype``: the dtype of the raw column in the ``serving_default`` signature.

``pipelines.config`` builds the YAML union from it, ``components.spec`` the model
inputs, ``components.transform`` the ``preprocessing_fn`` and ``components.trainer``
the serving signature. Adding a transform type is a config class, a TF function and
one :class:`Transform` in :data:`REGISTRY`, all in this module.

Cheap to import: pydantic only.

Example:
    >>> get("hash").model_inputs("city", {"transform": "hash", "hash_buckets": 64})
    [ModelInput(name='city', kind='categorical', cardinality=64, embedding_dim=None)]
    >>> get("bucketize").config(transform="bucketize").model_dump()
    {'transform': 'bucketize', 'num_buckets': 10, 'embedding_dim': None}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REGISTRY",
    "TIMESTAMP_CARDINALITY",
    "TRANSFORM_NAMES",
    "ModelInput",
    "Transform",
    "TransformConfig",
    "UnknownTransformError",
    "as_string",
    "for_feature",
    "get",
    "raw_serving_dtype",
]

TIMESTAMP_CARDINALITY = {"hour": 24, "day_of_week": 7, "month": 12}
_EPOCH = "1970-01-01 00:00:00"


@dataclass(frozen=True)
class ModelInput:
    """One transformed tensor the model consumes."""

    name: str
    kind: str  # "numeric" or "categorical"
    cardinality: int | None = None  # categorical ids are in [0, cardinality); None = from TFT's schema
    embedding_dim: int | None = None


class UnknownTransformError(ValueError):
    """A ``transform`` value no registry entry has."""


# --- config models: one per `transform:` value ------------------------------------------------


class TransformConfig(BaseModel):
    """Base of every transform's config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ZScore(TransformConfig):
    transform: Literal["zscore"]


class MinMax(TransformConfig):
    transform: Literal["minmax"]


class Log(TransformConfig):
    """log1p, then z-score: for heavy right tails."""

    transform: Literal["log"]


class Passthrough(TransformConfig):
    transform: Literal["passthrough"]


class Bucketize(TransformConfig):
    transform: Literal["bucketize"]
    num_buckets: int = Field(10, ge=2, description="Quantile buckets.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Vocabulary(TransformConfig):
    transform: Literal["vocabulary"]
    top_k: int | None = Field(None, ge=1, description="Keep the k most frequent values; default all.")
    oov_buckets: int = Field(1, ge=1, description="Buckets for values not in the vocabulary.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Hash(TransformConfig):
    transform: Literal["hash"]
    hash_buckets: int = Field(ge=2, description="Number of hash buckets.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


TimestampPart = Literal["hour", "day_of_week", "month"]


class Timestamp(TransformConfig):
    """A 'YYYY-MM-DD HH:MM:SS' string split into categorical calendar parts."""

    transform: Literal["timestamp"]
    parts: list[TimestampPart] = Field(default_factory=lambda: ["hour", "day_of_week", "month"], min_length=1)
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Drop(TransformConfig):
    """Read from the CSV and accepted at serving, but not used by the model."""

    transform: Literal["drop"]


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


def _timestamp(name: str, f: Mapping[str, Any], x: Any) -> dict[str, Any]:
    """'YYYY-MM-DD HH:MM:SS' (or 'YYYY-MM-DD') strings -> hour [0,24), day_of_week [0,7) (Monday=0),
    month [0,12), as ``<name>_<part>``. A value that is neither reads as the epoch."""
    import tensorflow as tf

    parts = f["parts"]
    s = as_string(x)
    s = tf.where(tf.strings.regex_full_match(s, r"\d{4}-\d{2}-\d{2}"), s + " 00:00:00", s)
    valid = tf.strings.regex_full_match(s, r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?.*")
    s = tf.where(valid, s, _EPOCH)

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


# --- outputs: (feature name, its config dict) -> [(model input name, cardinality or None)] ------


def _one(cardinality_key: str | None = None) -> Callable[[str, Mapping[str, Any]], list[tuple[str, int | None]]]:
    """One output named after the feature; its cardinality from ``cardinality_key`` (None: TFT's)."""

    def outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
        return [(name, f[cardinality_key] if cardinality_key else None)]

    return outputs


_single = _one()


def _timestamp_outputs(name: str, f: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    return [(f"{name}_{part}", TIMESTAMP_CARDINALITY[part]) for part in f["parts"]]


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
        kind: ``numeric`` (float32 inputs), ``categorical`` (int64 ids, embedded) or ``drop``.
        column: How the raw column reaches ``apply``: ``numeric`` (float32; a missing value is
            the mean of the present ones, plus a 0/1 ``<feature>__missing`` model input) or
            ``string`` (as read; a missing value is ''). None for ``drop``.
        apply: The TF function, ``(name, config dict, column) -> {output name: [B, 1] tensor}``.
        outputs: ``(name, config dict) -> [(output name, cardinality)]``, the same names ``apply``
            returns; a cardinality of None means "TFT's vocabulary size".
        serving_dtype: The raw column's ``tf.io`` feature spec -> its ``serving_default`` dtype.

    Example:
        >>> get("timestamp").model_inputs("ts", {"transform": "timestamp", "parts": ["hour"]})
        [ModelInput(name='ts_hour', kind='categorical', cardinality=24, embedding_dim=None)]
    """

    name: str
    config: type[TransformConfig]
    kind: Literal["numeric", "categorical", "drop"]
    column: Literal["numeric", "string"] | None
    apply: Callable[[str, Mapping[str, Any], Any], dict[str, Any]] | None
    outputs: Callable[[str, Mapping[str, Any]], list[tuple[str, int | None]]] = _single
    serving_dtype: Callable[[Any], Any] = raw_serving_dtype

    @property
    def served(self) -> bool:
        """Whether the ``serving_default`` signature takes this feature (``drop`` ones are not)."""
        return self.kind != "drop"

    def model_inputs(self, name: str, f: Mapping[str, Any]) -> list[ModelInput]:
        """The model inputs of feature ``name`` whose config dict is ``f``."""
        if self.kind == "numeric":
            return [ModelInput(out, "numeric") for out, _ in self.outputs(name, f)]
        dim = f.get("embedding_dim")
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
        Transform("timestamp", Timestamp, "categorical", "string", _timestamp, _timestamp_outputs),
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
