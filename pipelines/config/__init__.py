"""The pipeline config: YAML + ``--set`` overrides -> one typed, frozen, validated object.

Imports run one way: ``loader`` -> ``checks``, ``messages`` -> ``models`` -> ``features``,
``evaluation``, ``validation``, ``source``, ``base``. Nothing here imports TensorFlow, TFX or Beam, so a bad
config is rejected in well under a second. Loading checks types, keys and cross-field rules
only and reads no other file; ``pipelines.data.environment.check_environment`` checks the
data, the schema file and user modules, in the commands that read data.

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
from pipelines.config.source import ConfigSource

__all__ = [
    "ANOMALY_ALIASES",
    "METRICS",
    "TASKS",
    "TASK_METRICS",
    "TRANSFORMS",
    "ConfigSource",
    "PipelineConfig",
    "default_thresholds",
    "load_config",
    "parse_override",
]
