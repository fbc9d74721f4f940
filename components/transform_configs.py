"""The config model of every ``transform:`` value: the keys YAML may set next to ``transform``.

One pydantic class per transform; the registry (``components.transforms``) pairs each with its
TF function and outputs, and ``pipelines.config`` validates YAML against their union.

Cheap to import: pydantic only.

Example:
    >>> Text(transform="text").model_dump()
    {'transform': 'text', 'top_k': 10000, 'oov_buckets': 1, 'embedding_dim': None, 'max_tokens': 32}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Bucketize",
    "Drop",
    "Hash",
    "Log",
    "MinMax",
    "Passthrough",
    "Text",
    "Timestamp",
    "TimestampPart",
    "TransformConfig",
    "Vocabulary",
    "ZScore",
]


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


class Text(TransformConfig):
    """Free text: lower-cased, split into words, each word embedded; the model averages the words."""

    transform: Literal["text"]
    top_k: int = Field(10_000, ge=1, description="Vocabulary: the k most frequent words of the training split.")
    oov_buckets: int = Field(1, ge=1, description="Buckets for words not in the vocabulary.")
    embedding_dim: int | None = Field(None, ge=1, description="Word embedding size; default model.embedding_dim.")
    max_tokens: int = Field(32, ge=1, description="Words read per value; the rest are ignored.")


class Drop(TransformConfig):
    """Read from the CSV and accepted at serving, but not used by the model."""

    transform: Literal["drop"]
