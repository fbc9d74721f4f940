"""TFDV statistics of CSV files exactly as the pipeline's ExampleGen -> StatisticsGen compute them.

The files are read with ExampleGen's own reader and typing (``components.csv_example_gen``:
BOM, quoted newlines, ``NA`` tokens, blank lines), so a column means the same here as in a run.
Used by the schema tools (``pipelines.schema infer|diff``) and the validation gate's
training/serving skew check; TFDV's own CSV reader disagreed with the pipeline on such files.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

__all__ = ["csv_statistics"]


def csv_statistics(files: list[str]) -> Any:
    """TFDV statistics (``DatasetFeatureStatisticsList``) of CSV ``files`` as the pipeline's
    ExampleGen -> StatisticsGen computes them (one dataset, no split)."""
    import apache_beam as beam
    import tensorflow_data_validation as tfdv
    from tfx_bsl.public import tfxio

    from components.csv_example_gen import CsvToExamples  # Beam and TFX: imported only here

    examples = tfxio.TFExampleBeamRecord(physical_format="inmem", telemetry_descriptors=["csv_statistics"])
    with tempfile.TemporaryDirectory(prefix="schema-stats-") as tmp:
        out = os.path.join(tmp, "statistics.pb")
        with beam.Pipeline() as p:
            _ = (
                p
                | "CsvToExamples" >> CsvToExamples(files)  # serialized tf.Example
                | "ToRecordBatches" >> examples.BeamSource()
                | "GenerateStatistics" >> tfdv.GenerateStatistics(tfdv.StatsOptions())
                | "Write" >> tfdv.WriteStatisticsToBinaryFile(out)
            )
        return tfdv.load_stats_binary(out)
