"""CsvExampleGen's executor with a reader for real-world CSV, Arrow-native and vectorised.

TFX's CsvExampleGen keeps a UTF-8 byte order mark in the first column's name and
turns a numeric column holding ``NA`` into a string column. This executor keeps
TFX's typing rule (tfx_bsl's ``ColumnTypeInferrer``: int, then float, then string, over
all rows of all files) and its ``tf.Example`` layout, and reads the CSV the project's way
(``components.csv_cells``):

- a leading BOM is dropped;
- missing-value tokens (``NA``, ``N/A``, ``null``, ... see ``NA_TOKENS``) are missing cells;
- quoted fields may hold commas, quotes and newlines; blank lines are skipped.

The Beam pipeline, one element per file (so Dataflow spreads files over workers)::

    files -> ScanFiles (column types per file) -> MergeColumnTypes (one global type per column)
          -> EncodeExamples (the file again, typed by the global types) -> serialized tf.Example

Each file is read by pyarrow and encoded with vectorised compute (``components.arrow_csv``).
A file Arrow cannot read exactly as Python's ``csv`` module does goes through the Python path
(``file_cells`` and TFX's ``_ParsedCsvToTfExample``), which raises the same errors as before.

Elements are serialized ``tf.Example`` bytes, each equal to the Python path's
``Example.SerializeToString(deterministic=True)``: ExampleGen's writer accepts bytes and hashes
them to pick the split, so every example lands in the same split as before. A subclass wrapping
``GetInputSourceToExamplePTransform`` parses them with ``tf.train.Example.FromString``.

Used as ``CsvExampleGen(..., custom_executor_spec=BeamExecutorSpec(Executor))``.
``CsvToExamples(files)`` is the same conversion as a Beam transform, so the schema tools
(``pipelines.schema``) compute statistics over exactly the examples a run would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
from tfx.types import standard_component_specs
from tfx_bsl.coders import csv_decoder

from components import arrow_csv
from components import filesystem as fs
from components.csv_cells import is_missing, open_csv, read_header, read_rows

__all__ = ["CsvToExamples", "Executor", "file_cells", "file_examples", "scan", "split_columns"]


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


def scan(path: str, columns: list[str], fast: bool = True) -> arrow_csv.FileScan:
    """``(path, kinds, read with Arrow)``: tfx_bsl's column types over one file's rows (``ColumnType`` values).

    ``fast=False`` (or a file Arrow cannot read exactly as Python does) scans with the Python path.
    """
    if fast:
        result = arrow_csv.scan_file(path, len(columns))
        if result[2]:
            return result
    inferrer = csv_decoder.ColumnTypeInferrer([c.encode("utf-8") for c in columns], skip_blank_lines=True)
    types = inferrer.create_accumulator()
    for cells in file_cells(path):
        types = inferrer.add_input(types, cells)
    return path, [int(info.type.value) for info in inferrer.extract_output(types)], False


class _MergeKinds(beam.CombineFn):
    """The global type of each column: the highest of the files' (UNKNOWN < INT < FLOAT < STRING)."""

    def __init__(self, columns: list[str]) -> None:
        self._columns = columns

    def create_accumulator(self) -> list[int]:
        return [arrow_csv.UNKNOWN] * len(self._columns)

    def add_input(self, acc: list[int], kinds: list[int]) -> list[int]:
        return [max(a, k) for a, k in zip(acc, kinds, strict=True)]

    def merge_accumulators(self, accs: Iterable[list[int]]) -> list[int]:
        out = self.create_accumulator()
        for acc in accs:
            out = self.add_input(out, acc)
        return out

    def extract_output(self, acc: list[int]) -> list[int]:
        by_name: dict[str, int] = {}  # tfx_bsl types by name: a repeated name gets one type
        for name, kind in zip(self._columns, acc, strict=True):
            by_name[name] = max(by_name.get(name, arrow_csv.UNKNOWN), kind)
        return [by_name[name] for name in self._columns]


def file_examples(file_scan: arrow_csv.FileScan, columns: list[str], kinds: list[int]) -> Iterator[bytes]:
    """Serialized ``tf.Example``s of one scanned file, typed by the global ``kinds``."""
    path, _, fast = file_scan
    if fast:
        raw = arrow_csv.raw_header(path)
        for batch in arrow_csv.file_batches(path, raw):
            yield from arrow_csv.encode_batch(batch, columns, kinds).to_pylist()
        return
    infos = [
        csv_decoder.ColumnInfo(c.encode("utf-8"), csv_decoder.ColumnType(k))
        for c, k in zip(columns, kinds, strict=True)
    ]
    to_example = _ParsedCsvToTfExample()
    for cells in file_cells(path):
        for example in to_example.process(cells, infos):
            yield example.SerializeToString(deterministic=True)


@beam.ptransform_fn
def CsvToExamples(pipeline: beam.Pipeline, files: list[str], fast: bool = True) -> beam.PCollection:  # noqa: N802
    """CSV files with one header -> serialized ``tf.train.Example``, each column typed by tfx_bsl's rule
    over all rows. ``fast=False`` reads every file with the Python path (tests and benchmarks)."""
    columns = split_columns(files)
    scans = pipeline | "Files" >> beam.Create(files) | "ScanFiles" >> beam.Map(scan, columns, fast)
    kinds = beam.pvalue.AsSingleton(
        scans | "Kinds" >> beam.Map(lambda s: s[1]) | "MergeColumnTypes" >> beam.CombineGlobally(_MergeKinds(columns))
    )
    return scans | "EncodeExamples" >> beam.FlatMap(file_examples, columns, kinds)


@beam.ptransform_fn
def _csv_to_example(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """The files of one split -> serialized ``tf.train.Example`` (ExampleGen's input-source transform)."""
    pattern = fs.join(exec_properties[standard_component_specs.INPUT_BASE_KEY], split_pattern)
    files = fs.glob(pattern)
    if not files:
        raise RuntimeError(f"split pattern {pattern} matches no files")
    return pipeline | "CsvToExamples" >> CsvToExamples(files)


class Executor(BaseExampleGenExecutor):
    """TFX's CSV ExampleGen executor, reading with pyarrow (``components.arrow_csv``); elements are bytes."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX's name)
        return _csv_to_example
