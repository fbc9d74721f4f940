"""Tuned settings applied to the feature spec: one place for the Tuner's trials and the Trainer.

A setting is named by where it lives in the config: ``model.hidden_units``, ``trainer.learning_rate``,
``features.city.embedding_dim``. The Tuner's ``best_hyperparameters`` artifact holds
``{"values": {name: value}}`` (keras-tuner's ``HyperParameters.get_config()`` shape), which the
Trainer reads as ``fn_args.hyperparameters``. No TensorFlow here.

Example:
    >>> spec = FeatureSpec.from_config(
    ...     {
    ...         "label": "y",
    ...         "task": "binary",
    ...         "features": {"c": {"transform": "hash", "hash_buckets": 8}},
    ...         "model": {"hidden_units": [8]},
    ...         "trainer": {"learning_rate": 1e-5},
    ...     }
    ... )
    >>> s = apply(spec, {"trainer.learning_rate": 0.01, "features.c.embedding_dim": 4})
    >>> s.trainer["learning_rate"], s.features["c"]["embedding_dim"]
    (0.01, 4)
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from components.spec import FeatureSpec

__all__ = ["TRIALS_FILE", "apply", "decode", "encode", "values_of"]

# The Tuner's trial record, in its ``tuner_results`` artifact (``components.tuner.trial_records``).
TRIALS_FILE = "trials.json"


def apply(spec: FeatureSpec, values: dict[str, Any]) -> FeatureSpec:
    """``spec`` with each ``{dotted name: value}`` in place of the config's setting.

    Raises:
        ValueError: a name that is not ``model.*``, ``trainer.*`` or ``features.<name>.*`` of this spec.
    """
    model, trainer = dict(spec.model), dict(spec.trainer)
    features = {k: dict(f) for k, f in spec.features.items()}
    for name, value in values.items():
        section, *rest = name.split(".")
        if section == "model" and len(rest) == 1:
            model[rest[0]] = value
        elif section == "trainer" and len(rest) == 1:
            trainer[rest[0]] = value
        elif section == "features" and len(rest) == 2 and rest[0] in features:
            features[rest[0]][rest[1]] = value
        else:
            raise ValueError(f"hyperparameter {name!r} is not a model, trainer or feature setting of this pipeline")
    return dataclasses.replace(spec, model=model, trainer=trainer, features=features)


def values_of(hyperparameters: dict[str, Any] | None) -> dict[str, Any]:
    """The ``{name: value}`` of a ``best_hyperparameters`` config (``fn_args.hyperparameters``); {} for None."""
    if not hyperparameters:
        return {}
    return dict(hyperparameters.get("values", hyperparameters))


def encode(value: Any) -> Any:
    """A choice value as keras-tuner can hold it: numbers, strings and booleans as they are, lists as JSON."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (a JSON list back to a list)."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return json.loads(value)
    return value
