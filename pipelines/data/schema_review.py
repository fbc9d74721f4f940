"""The schema review loop behind ``python -m pipelines.schema {infer,diff}``.

Statistics are computed the way a run computes them: the files of the latest span are read
by ExampleGen's own reader and typed by its own conversion (``components.csv_example_gen
.CsvToExamples``: BOM dropped, quoted newlines kept, ``NA`` tokens missing, each column typed
by tfx_bsl over all rows), decoded to Arrow as StatisticsGen decodes ``tf.Example``, then
TFDV's ``GenerateStatistics``. So a column the pipeline reads as INT with missing values is
INT with missing values here too, not ``BYTES`` with an ``UNEXPECTED_DATA_TYPE`` anomaly.

- ``infer_schema``: the schema TFDV infers from those statistics, written next to the curated one
  as ``schema.inferred.pbtxt`` for review. The curated schema is never overwritten.
- ``diff_schema``: the anomalies of the data against the curated schema, and a unified diff between
  the curated schema and the curated schema relaxed to accept the data (``tfdv.update_schema``).

TensorFlow, Beam and TFDV are imported inside the functions.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from components import filesystem as fs
from components.csv_statistics import csv_statistics
from components.schema_file import read_schema, write_schema
from pipelines.config import PipelineConfig
from pipelines.data.environment import check_environment
from pipelines.data.preflight import preflight
from pipelines.data.sources import resolve
from pipelines.errors import ConfigError

__all__ = ["SchemaDiff", "csv_statistics", "diff_schema", "infer_schema", "inferred_schema_path", "latest_span_files"]


@dataclass(frozen=True)
class SchemaDiff:
    anomalies: list[str]  # one "feature: KIND: description\n    fix: ..." entry per finding
    changes: list[str]  # unified diff lines: curated schema -> relaxed to accept the data


def latest_span_files(config: PipelineConfig) -> list[str]:
    """The files of the latest span (all matching files without span placeholders), checked as a run checks them.

    Raises:
        ConfigError: the data folder, the schema file or a column the config names is missing.
        PreflightError: a file cannot be read as this pipeline's CSV (the same message as a run).
    """
    check_environment(config)
    preflight(config)  # a malformed file gets the same clear message as in a run
    return resolve(config.data.source, config.data.pattern, None).files


def _schema_dir(config: PipelineConfig) -> str:
    if config.schema_.path:
        return fs.dirname(config.schema_.path)
    return os.path.join("schemas", config.pipeline.name)


def inferred_schema_path(config: PipelineConfig) -> str:
    return fs.join(_schema_dir(config), "schema.inferred.pbtxt")


def infer_schema(config: PipelineConfig) -> str:
    """Write ``schema.inferred.pbtxt`` beside the curated schema; returns its path."""
    import tensorflow_data_validation as tfdv

    schema = tfdv.infer_schema(csv_statistics(latest_span_files(config)))
    path = inferred_schema_path(config)
    write_schema(
        schema,
        path,
        header=f"Inferred by `python -m pipelines.schema infer` from {config.data.source}; "
        f"review it, never use it unread.",
    )
    return path


def diff_schema(config: PipelineConfig) -> SchemaDiff:
    """The anomalies of the current data against the curated schema, and what the data would change in it."""
    import tensorflow_data_validation as tfdv
    from google.protobuf import text_format

    from components.gate import findings_from_anomalies

    if not config.schema_.path:
        raise ConfigError(
            f"schema.path: {config.pipeline.name} has no curated schema to compare with",
            hint="run `python -m pipelines.schema infer` and set schema.path to the reviewed file",
        )
    files = latest_span_files(config)  # checks the schema file too
    curated = read_schema(config.schema_.path)
    stats = csv_statistics(files)
    anomalies = tfdv.validate_statistics(stats, curated, environment="TRAINING")
    label = config.label
    findings = findings_from_anomalies(
        anomalies,
        "current",
        config.schema_.path,
        label.column,
        task=label.task,
        classes=label.class_names,
        positive=None if label.positive is None else str(label.positive),
    )
    lines = [f"{f.feature}: {f.kind}: {f.description}\n    fix: {f.fix}" for f in findings]
    relaxed = tfdv.update_schema(curated, stats)
    before = text_format.MessageToString(curated).splitlines()
    after = text_format.MessageToString(relaxed).splitlines()
    changes = list(
        difflib.unified_diff(before, after, config.schema_.path, "relaxed to accept the current data", lineterm="")
    )
    return SchemaDiff(lines, changes)
