"""The feature spec as executors see it: plain data from ``custom_config``, no TensorFlow.

One declaration per feature drives the transform, the model inputs and the
serving signature, so training and serving cannot disagree on a feature. What a
``transform`` value means is the registry's (``components.transforms``).

Example:
    >>> spec = FeatureSpec.from_config({"label": "y", "task": "binary", "features": {"age": {"transform": "zscore"}}})
    >>> spec.model_inputs()
    [ModelInput(name='age', kind='numeric', cardinality=None, embedding_dim=None)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import transforms
from components.transforms import ModelInput

__all__ = ["MISSING_SUFFIX", "OUTPUT_KEYS", "FeatureSpec", "ModelInput"]

MISSING_SUFFIX = "__missing"  # the 0/1 is-missing indicator the transform adds for an optional numeric feature
# The served output per task: binary the positive-class probability [batch]; multiclass per-class
# `scores` [batch, n] with their `classes` [batch, n]; regression the prediction [batch].
OUTPUT_KEYS = {"binary": "probabilities", "multiclass": "scores", "regression": "predictions"}


@dataclass(frozen=True)
class FeatureSpec:
    """A pipeline's ``custom_config``: label and task, ``{feature: transform config dict}``, model and trainer."""

    label: str
    task: str
    features: dict[str, dict[str, Any]]
    model: dict[str, Any]
    trainer: dict[str, Any]
    positive: Any = None  # binary: the positive label value when labels are not 0/1
    classes: tuple[Any, ...] | None = None  # multiclass: label values, in output order

    @classmethod
    def from_config(cls, custom_config: dict[str, Any]) -> FeatureSpec:
        try:
            classes = custom_config.get("classes")
            return cls(
                label=custom_config["label"],
                task=custom_config["task"],
                features=custom_config["features"],
                model=custom_config.get("model", {}),
                trainer=custom_config.get("trainer", {}),
                positive=custom_config.get("positive"),
                classes=tuple(classes) if classes else None,
            )
        except KeyError as exc:
            raise ValueError(f"custom_config lacks {exc}; was it built by pipelines.build?") from exc

    def model_inputs(self) -> list[ModelInput]:
        """The transformed features, in a stable order, with how the model should embed them.

        Raises:
            ValueError: a feature names a transform the registry does not have.
        """
        inputs: list[ModelInput] = []
        for name, f in sorted(self.features.items()):
            inputs.extend(transforms.for_feature(name, f).model_inputs(name, f))
        return inputs

    def served_features(self) -> list[str]:
        """The features the ``serving_default`` signature takes (all but ``drop`` ones), sorted."""
        return sorted(name for name, f in self.features.items() if transforms.for_feature(name, f).served)
