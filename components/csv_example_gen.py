"""CsvExampleGen's executor with a reader for real-world CSV.

TFX's CsvExampleGen keeps a UTF-8 byte order mark in the first column's name and
turns a numeric column holding ``NA`` into a string column. This executor keeps
TFX's type inference (tfx_bsl's ``ColumnTypeInferrer``) and ``tf.Example``
conversion and replaces only the reading (``components.csv_cells``):

- a leading BOM is dropped;
- missing-value tokens (``NA``, ``N/A``, ``null``, ... see ``NA_TOKENS``) are missing cells;
- quoted fields may hold commas, quotes and newlines.

Used as ``CsvExampleGen(..., custom_executor_spec=BeamExecutorSpec(Executor))``.
"""

from __future__ import annotations

import io
import os
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
from tfx.dsl.io import fileio
from tfx.types import standard_component_specs
from tfx_bsl.coders import csv_decoder

from components.csv_cells import is_missing, read_rows


def _open_text(path: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(FileSystems.open(path), encoding="utf-8-sig", newline="")  # gs:// too


def header_of(path: str) -> list[str]:
    with _open_text(path) as fh:
        return next(read_rows(fh), [])


def file_cells(path: str) -> Iterable[list[bytes]]:
    """Data rows of one file as tfx_bsl CSV cells (bytes); missing tokens become empty cells."""
    with _open_text(path) as fh:
        rows = read_rows(fh)
        header = next(rows, [])
        for row in rows:
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                raise ValueError(f"{path}: a row has {len(row)} fields, the header has {len(header)}: {row[:5]}")
            yield [b"" if is_missing(c) else c.encode("utf-8") for c in row]


@beam.ptransform_fn
def _csv_to_example(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """The files of one split -> ``tf.train.Example``, typed per column by tfx_bsl."""
    pattern = os.path.join(exec_properties[standard_component_specs.INPUT_BASE_KEY], split_pattern)
    files = sorted(fileio.glob(pattern))
    if not files:
        raise RuntimeError(f"split pattern {pattern} matches no files")
    columns = header_of(files[0])
    for path in files[1:]:
        if header_of(path) != columns:
            raise RuntimeError(f"{path}: header differs from {files[0]}'s; every file of a split needs the same columns")
    cells = pipeline | "Files" >> beam.Create(files) | "ReadCsv" >> beam.FlatMap(file_cells)
    infos = beam.pvalue.AsSingleton(
        cells | "InferColumnTypes" >> beam.CombineGlobally(
            csv_decoder.ColumnTypeInferrer([c.encode("utf-8") for c in columns], skip_blank_lines=True)))
    return cells | "ToTFExample" >> beam.ParDo(_ParsedCsvToTfExample(), infos)


class Executor(BaseExampleGenExecutor):
    """TFX's CSV ExampleGen executor, reading with ``components.csv_cells``."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX's name)
        return _csv_to_example
