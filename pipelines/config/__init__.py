"""The pipeline config: YAML + ``--set`` overrides -> one typed, frozen, validated object.

Imports run one way: ``loader`` -> ``checks``, ``messages`` -> ``models``. Nothing here
imports TensorFlow, TFX or Beam, so a bad config is rejected in well under a second.

Example:
    >>> cfg = load_config("configs/ad_click.yaml", ["trainer.train_steps=200"])
    >>> cfg.trainer.train_steps
    200
"""

from pipelines.config.loader import load_config, parse_override
from pipelines.config.models import (
    ANOMALY_ALIASES,
    METRICS,
    TASK_METRICS,
    TASKS,
    TRANSFORMS,
    PipelineConfig,
    default_thresholds,
)

__all__ = [
    "ANOMALY_ALIASES",
    "METRICS",
    "TASKS",
    "TASK_METRICS",
    "TRANSFORMS",
    "PipelineConfig",
    "default_thresholds",
    "load_config",
    "parse_override",
]
