"""The pipeline's Beam executors, each with :class:`components.local_beam.LocalBeamExecutor` in front:
no ``tfx_ephemeral`` sdist per component on the DirectRunner, TFX's behaviour on any other runner.

``pipelines.build.pipeline`` names these classes in each component's ``BeamExecutorSpec``; the
Evaluator's is ``components.evaluator.Executor``. Each is the TFX (or project) executor unchanged.
"""

from __future__ import annotations

from tfx.components.statistics_gen import executor as tfx_statistics_gen
from tfx.components.transform import executor as tfx_transform

from components import csv_example_gen, image_example_gen
from components.local_beam import LocalBeamExecutor

__all__ = ["CsvExampleGenExecutor", "ImageExampleGenExecutor", "StatisticsGenExecutor", "TransformExecutor"]


class CsvExampleGenExecutor(LocalBeamExecutor, csv_example_gen.Executor):
    """``components.csv_example_gen.Executor``."""


class ImageExampleGenExecutor(LocalBeamExecutor, image_example_gen.Executor):
    """``components.image_example_gen.Executor``."""


class StatisticsGenExecutor(LocalBeamExecutor, tfx_statistics_gen.Executor):
    """``tfx.components.StatisticsGen``'s executor."""


class TransformExecutor(LocalBeamExecutor, tfx_transform.Executor):
    """``tfx.components.Transform``'s executor."""
