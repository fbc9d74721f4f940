"""The ``features`` section: one model per transform (``age: zscore`` is shorthand for ``{transform: zscore}``)."""

from __future__ import annotations

import typing
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from pipelines.config.base import Strict as _Strict

# Feature transforms: one class per `transform:` value; YAML may write `age: zscore` as shorthand.
class _Feature(_Strict):
    pass


class ZScore(_Feature):
    transform: Literal["zscore"]


class MinMax(_Feature):
    transform: Literal["minmax"]


class Log(_Feature):
    """log1p, then z-score: for heavy right tails."""

    transform: Literal["log"]


class Passthrough(_Feature):
    transform: Literal["passthrough"]


class Bucketize(_Feature):
    transform: Literal["bucketize"]
    num_buckets: int = Field(10, ge=2, description="Quantile buckets.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Vocabulary(_Feature):
    transform: Literal["vocabulary"]
    top_k: int | None = Field(None, ge=1, description="Keep the k most frequent values; default all.")
    oov_buckets: int = Field(1, ge=1, description="Buckets for values not in the vocabulary.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Hash(_Feature):
    transform: Literal["hash"]
    hash_buckets: int = Field(ge=2, description="Number of hash buckets.")
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


TimestampPart = Literal["hour", "day_of_week", "month"]


class Timestamp(_Feature):
    """A 'YYYY-MM-DD HH:MM:SS' string split into categorical calendar parts."""

    transform: Literal["timestamp"]
    parts: list[TimestampPart] = Field(default_factory=lambda: ["hour", "day_of_week", "month"], min_length=1)
    embedding_dim: int | None = Field(None, ge=1, description="Embedding size; default model.embedding_dim.")


class Drop(_Feature):
    """Read from the CSV and accepted at serving, but not used by the model."""

    transform: Literal["drop"]


Feature = Annotated[
    Union[ZScore, MinMax, Log, Passthrough, Bucketize, Vocabulary, Hash, Timestamp, Drop],
    Field(discriminator="transform"),
]
TRANSFORMS = ("zscore", "minmax", "log", "passthrough", "bucketize", "vocabulary", "hash", "timestamp", "drop")
