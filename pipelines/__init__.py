"""Declarative TFX pipelines: one YAML config -> a real TFX pipeline -> a served model.

Command-line entry points (each a thin module): ``pipelines.run``, ``pipelines.datagen``,
``pipelines.push`` (list pushed versions, roll back) and ``pipelines.serve`` (REST model server).
Library entry points below; heavy dependencies (TensorFlow, TFX, Beam) load only
when a pipeline is built or run, never on import of this package.

Example:
    >>> from pipelines import load_config, build_pipeline
    >>> config = load_config("configs/ad_click.yaml", ["trainer.train_steps=200"])
    >>> pipeline = build_pipeline(config)   # a tfx.dsl.Pipeline; imports TFX
"""

from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ConfigError, DataValidationError, PipelineError, PipelineRunError, ServingError


def build_pipeline(config: PipelineConfig):  # noqa: ANN201 - returns tfx.dsl.Pipeline, imported lazily
    """Build the ``tfx.dsl.Pipeline`` for a validated config (see ``pipelines.build``)."""
    from pipelines.build import build_pipeline as _build

    return _build(config)


__all__ = [
    "ConfigError",
    "DataValidationError",
    "PipelineConfig",
    "PipelineError",
    "PipelineRunError",
    "ServingError",
    "build_pipeline",
    "load_config",
]
