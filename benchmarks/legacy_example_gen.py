"""CsvExampleGen's executors as they were, for ``benchmarks.floors``.

``LegacyExecutor``: before the Arrow path (commit 09a316a). Every row read by ``components.csv_cells``
in Python, the columns typed by tfx_bsl's ``ColumnTypeInferrer`` over all rows, rows turned into
``tf.train.Example`` by TFX's ``_ParsedCsvToTfExample``.

``TfxWriterExecutor``: before the block writer (``components.split_writer``): the Arrow reader, TFX's
writer per example. Imports TFX at the top: import it only where TFX is wanted.
"""

from __future__ import annotations

from typing import Any

import apache_beam as beam
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
from tfx_bsl.coders import csv_decoder

from components import filesystem as fs
from components.csv_example_gen import Executor, file_cells, split_columns


@beam.ptransform_fn
def _to_examples(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    files = fs.glob(fs.join(exec_properties["input_base"], split_pattern))
    columns = split_columns(files)
    cells = pipeline | "Files" >> beam.Create(files) | "ReadCsv" >> beam.FlatMap(file_cells)
    inferrer = csv_decoder.ColumnTypeInferrer([c.encode("utf-8") for c in columns], skip_blank_lines=True)
    infos = beam.pvalue.AsSingleton(cells | "InferColumnTypes" >> beam.CombineGlobally(inferrer))
    return cells | "ToTFExample" >> beam.ParDo(_ParsedCsvToTfExample(), infos)


class LegacyExecutor(BaseExampleGenExecutor):
    """ExampleGen before the Arrow path: ``tf.train.Example`` elements, Python reading."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX's name)
        return _to_examples


class TfxWriterExecutor(Executor):
    """Today's reader (pyarrow, vectorised encoding) with TFX's writer: each example a Beam element,
    hashed to its split, ``Reshuffle``d and written by ``WriteToTFRecord`` (before the block writer)."""

    def _writes_blocks(self, output_config: Any, exec_properties: dict[str, Any]) -> bool:
        return False
