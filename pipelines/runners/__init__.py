"""Runners execute a built pipeline and say how the run went; one module per engine.

``base`` holds the interface (``Runner``, ``RunOutcome``) and the console ``Progress``; each
engine is one module, found through ``ENGINES`` (name -> ``module:Class``) and imported only
when chosen, so choosing ``local`` never imports Airflow:

    local     local.py        runs the pipeline here with TFX's LocalDagRunner
    airflow   airflow.py      writes an Airflow DAG (TFX's AirflowDagRunner); Airflow runs it
    vertex    vertex.py       compiles with TFX's KubeflowV2DagRunner, submits to Vertex AI (``--runner vertex``)

What a run produced is read from ML Metadata by ``pipelines.results``, never by a runner.
"""

from __future__ import annotations

import importlib

from pipelines.errors import ConfigError
from pipelines.runners.base import Progress, Runner, RunOutcome
from pipelines.runners.local import LocalRunner

__all__ = ["ENGINES", "LocalRunner", "Progress", "RunOutcome", "Runner", "runner_class"]

ENGINES: dict[str, str] = {
    "local": "pipelines.runners.local:LocalRunner",
    "airflow": "pipelines.runners.airflow:AirflowRunner",
    "vertex": "pipelines.runners.vertex:VertexRunner",
}


def runner_class(name: str) -> type[Runner]:
    """The ``Runner`` subclass of engine ``name``, its module imported now.

    Example:
        >>> runner_class("local").__name__
        'LocalRunner'
    """
    if name not in ENGINES:
        raise ConfigError(f"unknown runner {name!r}; choose one of {', '.join(ENGINES)}")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)
