"""Declarative TFX pipelines: one YAML config -> a real TFX pipeline -> a served model.

The flow, one package per step (imports run one way, checked by ``make lint``)::

    config/    YAML + --set -> a typed, frozen, validated PipelineConfig (no TensorFlow)
    data/      which files a run reads, checks of the world and of each CSV, generators, the scaffold
    build/     PipelineConfig -> tfx.dsl.Pipeline, the same for every engine
    runners/   one module per engine (local, airflow, vertex): runs, schedules or compiles a built pipeline
    results/   summary, run records and HTML reports, read back from ML Metadata and artifacts
    history/   run history: list, show and compare runs (pipelines.runs, the notebooks)
    serving/   the built-in TF-Serving-compatible server (REST, gRPC) and the served versions
    monitoring/  served traffic against training (skew, drift, live accuracy) and batch inference

``execute.run_pipeline`` is the one orchestration function behind ``python -m pipelines.run``.
Commands (thin: parse, call one function, print, map errors to exit codes): ``pipelines.run``,
``init``, ``datagen``, ``schema``, ``push``, ``serve``, ``runs``, ``schedule``, ``monitor``,
``predict``. Heavy dependencies (TensorFlow, TFX, Beam) load only when a pipeline is built or
run, never on import of this package.

Example:
    >>> from pipelines import load_config, build_pipeline, run_pipeline
    >>> config = load_config("configs/ad_click.yaml", ["trainer.train_steps=200"])
    >>> pipeline = build_pipeline(config)  # a tfx.dsl.Pipeline; imports TFX
    >>> summary = run_pipeline(config)  # runs it locally; a RunSummary read from ML Metadata
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.config import PipelineConfig, load_config
from pipelines.errors import (
    ConfigError,
    DataBlockedError,
    DataValidationError,
    PipelineError,
    PipelineRunError,
    PreflightError,
    ScaffoldError,
    ServingError,
)

if TYPE_CHECKING:
    from pipelines.execute import RunOptions
    from pipelines.results.summary import RunSummary


def build_pipeline(config: PipelineConfig, until: str | None = None) -> Any:
    """Build the ``tfx.dsl.Pipeline`` for a validated config (see ``pipelines.build``);
    ``until="validate"`` stops after the data gate."""
    from pipelines.build import build_pipeline as _build

    return _build(config, until)


def run_pipeline(config: PipelineConfig, options: RunOptions | None = None) -> RunSummary:
    """Run the pipeline for a validated config and return its summary (see ``pipelines.execute``)."""
    from pipelines.execute import RunOptions
    from pipelines.execute import run_pipeline as _run

    return _run(config, options or RunOptions())


__all__ = [
    "ConfigError",
    "DataBlockedError",
    "DataValidationError",
    "PipelineConfig",
    "PipelineError",
    "PipelineRunError",
    "PreflightError",
    "ScaffoldError",
    "ServingError",
    "build_pipeline",
    "load_config",
    "run_pipeline",
]
