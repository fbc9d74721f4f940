"""CsvExampleGen's executor with a reader for real-world CSV.

TFX's CsvExampleGen keeps a UTF-8 byte order mark in the first column's name and
turns a numeric column holding ``NA`` into a string column. This executor keeps
TFX's type inference (tfx_bsl's ``ColumnTypeInferrer``) and ``tf.Example``
conversion and replaces only the reading (``components.csv_cells``):

- a leading BOM is dropped;
- missing-value tokens (``NA``, ``N/A``, ``null``, ... see ``NA_TOKENS``) are missing cells;
- quoted fields may hold commas, quotes and newlines; blank lines are skipped.

Used as ``CsvExampleGen(..., custom_executor_spec=BeamExecutorSpec(Executor))``.
``CsvToExamples(files)`` is the same conversion as a Beam transform, so the schema tools
(``pipelines.schema``) compute statistics over exactly the examples a run would write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
from tfx.types import standard_component_specs
from tfx_bsl.coders import csv_decoder

from components import filesystem as fs
from components.csv_cells import is_missing, open_csv, read_header, read_rows

__all__ = ["CsvToExamples", "Executor", "file_cells", "split_columns"]


def split_columns(files: list[str]) -> list[str]:
    """The header every file of a split shares.

    Raises:
        ValueError: a file's header differs from the first file's.
    """
    columns = read_header(files[0])
    for path in files[1:]:
        if read_header(path) != columns:
            raise ValueError(f"{path}: header differs from {files[0]}'s; every file of a split needs the same columns")
    return columns


def file_cells(path: str) -> Iterable[list[bytes]]:
    """Data rows of one file as tfx_bsl CSV cells (bytes); missing tokens become empty cells."""
    with open_csv(path) as fh:
        rows = read_rows(fh)
        header = next(rows, [])
        for row in rows:
            if len(row) != len(header):
                raise ValueError(f"{path}: a row has {len(row)} fields, the header has {len(header)}: {row[:5]}")
            yield [b"" if is_missing(c) else c.encode("utf-8") for c in row]


@beam.ptransform_fn
def CsvToExamples(pipeline: beam.Pipeline, files: list[str]) -> beam.PCollection:  # noqa: N802 (a PTransform)
    """CSV files with one header -> ``tf.train.Example``, each column typed by tfx_bsl over all rows."""
    columns = split_columns(files)
    cells = pipeline | "Files" >> beam.Create(files) | "ReadCsv" >> beam.FlatMap(file_cells)
    infos = beam.pvalue.AsSingleton(
        cells
        | "InferColumnTypes"
        >> beam.CombineGlobally(
            csv_decoder.ColumnTypeInferrer([c.encode("utf-8") for c in columns], skip_blank_lines=True)
        )
    )
    return cells | "ToTFExample" >> beam.ParDo(_ParsedCsvToTfExample(), infos)


@beam.ptransform_fn
def _csv_to_example(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """The files of one split -> ``tf.train.Example`` (ExampleGen's input-source transform)."""
    pattern = fs.join(exec_properties[standard_component_specs.INPUT_BASE_KEY], split_pattern)
    files = fs.glob(pattern)
    if not files:
        raise RuntimeError(f"split pattern {pattern} matches no files")
    return pipeline | "CsvToExamples" >> CsvToExamples(files)


class Executor(BaseExampleGenExecutor):
    """TFX's CSV ExampleGen executor, reading with ``components.csv_cells``."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX's name)
        return _csv_to_example
