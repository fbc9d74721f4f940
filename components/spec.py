"""The feature spec as executors see it: plain data from ``custom_config``, no TensorFlow.

One declaration per feature drives the transform, the model inputs and the
serving signature, so training and serving cannot disagree on a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NUMERIC_TRANSFORMS = ("zscore", "minmax", "log", "passthrough")
MISSING_SUFFIX = "__missing"  # the 0/1 is-missing indicator the transform adds for an optional numeric feature
# The served output per task: binary the positive-class probability [batch]; multiclass per-class
# `scores` [batch, n] with their `classes` [batch, n]; regression the prediction [batch].
OUTPUT_KEYS = {"binary": "probabilities", "multiclass": "scores", "regression": "predictions"}
TIMESTAMP_CARDINALITY = {"hour": 24, "day_of_week": 7, "month": 12}


@dataclass(frozen=True)
class ModelInput:
    """One transformed tensor the model consumes."""

    name: str
    kind: str  # "numeric" or "categorical"
    cardinality: int | None = None  # categorical ids are in [0, cardinality); None = from TFT's schema
    embedding_dim: int | None = None


@dataclass(frozen=True)
class FeatureSpec:
    label: str
    task: str
    features: dict[str, dict[str, Any]]
    model: dict[str, Any]
    trainer: dict[str, Any]
    positive: Any = None  # binary: the positive label value when labels are not 0/1
    classes: tuple[Any, ...] | None = None  # multiclass: label values, in output order

    @classmethod
    def from_config(cls, custom_config: dict[str, Any]) -> "FeatureSpec":
        try:
            classes = custom_config.get("classes")
            return cls(label=custom_config["label"], task=custom_config["task"], features=custom_config["features"],
                       model=custom_config.get("model", {}), trainer=custom_config.get("trainer", {}),
                       positive=custom_config.get("positive"), classes=tuple(classes) if classes else None)
        except KeyError as exc:
            raise ValueError(f"custom_config lacks {exc}; was it built by pipelines.build?") from exc

    def model_inputs(self) -> list[ModelInput]:
        """The transformed features, in a stable order, with how the model should embed them."""
        inputs: list[ModelInput] = []
        for name, f in sorted(self.features.items()):
            kind = f["transform"]
            dim = f.get("embedding_dim")
            if kind in NUMERIC_TRANSFORMS:
                inputs.append(ModelInput(name, "numeric"))
            elif kind == "bucketize":
                inputs.append(ModelInput(name, "categorical", f["num_buckets"], dim))
            elif kind == "vocabulary":
                inputs.append(ModelInput(name, "categorical", None, dim))
            elif kind == "hash":
                inputs.append(ModelInput(name, "categorical", f["hash_buckets"], dim))
            elif kind == "timestamp":
                for part in f["parts"]:
                    inputs.append(ModelInput(f"{name}_{part}", "categorical", TIMESTAMP_CARDINALITY[part], dim))
            elif kind != "drop":
                raise ValueError(f"feature {name!r}: unknown transform {kind!r}")
        return inputs
