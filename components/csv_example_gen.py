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
          -> WriteShards (the file again, typed by the global types, encoded, split and written)

``WriteShards`` (``components.split_writer``) puts each example in the split TFX's writer would
(the same SHA-256 of the same bytes) and writes one gzipped TFRecord shard per file and split, so no
example becomes a Beam element. The Examples artifact is TFX's: ``Split-<name>`` folders, split names,
payload and file format. A subclass that changes the examples (``GenerateExamplesByBeam`` or the
input-source transform overridden: images, the span store), a split by ``partition_feature_name``
or another payload format go through TFX's own writer, per example.

Each file is read by pyarrow and encoded with vectorised compute (``components.arrow_csv``).
A file Arrow cannot read exactly as Python's ``csv`` module does goes through the Python path
(``file_cells`` and TFX's ``_ParsedCsvToTfExample``), which raises the same errors as before.

Examples are serialized ``tf.Example`` bytes, each equal to the Python path's
``Example.SerializeToString(deterministic=True)``: ExampleGen's writer hashes those bytes to pick
the split, so every example lands in the same split as before. A subclass wrapping
``GetInputSourceToExamplePTransform`` parses them with ``tf.train.Example.FromString``.

Used as ``CsvExampleGen(..., custom_executor_spec=BeamExecutorSpec(Executor))``.
``CsvToExamples(files)`` is the same conversion as a Beam transform, so the schema tools
(``pipelines.schema``) compute statistics over exactly the examples a run would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen import write_split
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.example_gen.csv_example_gen.executor import _ParsedCsvToTfExample
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils
from tfx_bsl.coders import csv_decoder

from components import arrow_csv, split_writer
from components import filesystem as fs
from components.csv_cells import is_missing, open_csv, read_header, read_rows

__all__ = [
    "CsvToExamples",
    "CsvToShards",
    "Executor",
    "file_cells",
    "file_example_batches",
    "file_examples",
    "scan",
    "set_formats",
    "split_columns",
    "split_files",
]

PYTHON_BATCH = 10_000  # examples per batch from the Python path


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


def file_example_batches(file_scan: arrow_csv.FileScan, columns: list[str], kinds: list[int]) -> Iterator[list[bytes]]:
    """Serialized ``tf.Example``s of one scanned file, typed by the global ``kinds``, a block at a time."""
    path, _, fast = file_scan
    if fast:
        raw = arrow_csv.raw_header(path)
        for batch in arrow_csv.file_batches(path, raw):
            yield arrow_csv.encode_batch(batch, columns, kinds).to_pylist()
        return
    infos = [
        csv_decoder.ColumnInfo(c.encode("utf-8"), csv_decoder.ColumnType(k))
        for c, k in zip(columns, kinds, strict=True)
    ]
    to_example = _ParsedCsvToTfExample()
    block: list[bytes] = []
    for cells in file_cells(path):
        block += [example.SerializeToString(deterministic=True) for example in to_example.process(cells, infos)]
        if len(block) >= PYTHON_BATCH:
            yield block
            block = []
    if block:
        yield block


def file_examples(file_scan: arrow_csv.FileScan, columns: list[str], kinds: list[int]) -> Iterator[bytes]:
    """Serialized ``tf.Example``s of one scanned file, typed by the global ``kinds``."""
    for block in file_example_batches(file_scan, columns, kinds):
        yield from block


def _scan_files(pipeline: beam.Pipeline, files: list[str], fast: bool) -> tuple[list[str], Any, Any]:
    """``(columns, scans, kinds)``: the shared header, each file's scan, the global types (a side input)."""
    columns = split_columns(files)
    scans = pipeline | "Files" >> beam.Create(files) | "ScanFiles" >> beam.Map(scan, columns, fast)
    kinds = beam.pvalue.AsSingleton(
        scans | "Kinds" >> beam.Map(lambda s: s[1]) | "MergeColumnTypes" >> beam.CombineGlobally(_MergeKinds(columns))
    )
    return columns, scans, kinds


@beam.ptransform_fn
def CsvToExamples(pipeline: beam.Pipeline, files: list[str], fast: bool = True) -> beam.PCollection:  # noqa: N802
    """CSV files with one header -> serialized ``tf.train.Example``, each column typed by tfx_bsl's rule
    over all rows. ``fast=False`` reads every file with the Python path (tests and benchmarks)."""
    columns, scans, kinds = _scan_files(pipeline, files, fast)
    return scans | "EncodeExamples" >> beam.FlatMap(file_examples, columns, kinds)


def _write_file(
    file_scan: arrow_csv.FileScan,
    columns: list[str],
    kinds: list[int],
    files: list[str],
    split_uris: list[str],
    buckets: list[int],
) -> list[int]:
    name = split_writer.shard_name(files.index(file_scan[0]), len(files))
    paths = [fs.join(uri, name) for uri in split_uris]
    counts = split_writer.write_shards(file_example_batches(file_scan, columns, kinds), paths, buckets)
    beam.metrics.Metrics.counter(write_split.METRICS_NAMESPACE, "num_instances").inc(sum(counts))
    return counts


@beam.ptransform_fn
def CsvToShards(  # noqa: N802
    pipeline: beam.Pipeline, files: list[str], split_uris: list[str], buckets: list[int], fast: bool = True
) -> beam.PCollection:
    """CSV files -> gzipped TFRecord shards of serialized ``tf.train.Example``, one per file in each of
    ``split_uris`` (split ``j`` holds the examples TFX's hash puts in cumulative bucket ``buckets[j]``).

    The same examples as :func:`CsvToExamples`; returns each file's example count per split.
    """
    columns, scans, kinds = _scan_files(pipeline, files, fast)
    return scans | "WriteShards" >> beam.Map(_write_file, columns, kinds, files, split_uris, buckets)


def split_files(exec_properties: dict[str, Any], split_pattern: str) -> list[str]:
    """The input files of one split pattern, sorted.

    Raises:
        RuntimeError: the pattern matches no file.
    """
    pattern = fs.join(exec_properties[standard_component_specs.INPUT_BASE_KEY], split_pattern)
    files = fs.glob(pattern)
    if not files:
        raise RuntimeError(f"split pattern {pattern} matches no files")
    return files


@beam.ptransform_fn
def _csv_to_example(pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str) -> Any:
    """The files of one split -> serialized ``tf.train.Example`` (ExampleGen's input-source transform)."""
    return pipeline | "CsvToExamples" >> CsvToExamples(split_files(exec_properties, split_pattern))


def set_formats(examples: Any, exec_properties: dict[str, Any]) -> None:
    """The payload and file format TFX's ExampleGen records on its Examples artifact, from its properties."""
    payload = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
    file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
    if payload:
        examples_utils.set_payload_format(examples, payload)
    if file_format:
        examples_utils.set_file_format(examples, write_split.to_file_format_str(file_format))


class Executor(BaseExampleGenExecutor):
    """TFX's CSV ExampleGen executor, reading with pyarrow (``components.arrow_csv``) and writing each
    file's shards where it is encoded (``components.split_writer``)."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:  # noqa: N802 (TFX's name)
        return _csv_to_example

    def _writes_blocks(self, output_config: example_gen_pb2.Output, exec_properties: dict[str, Any]) -> bool:
        """Whether the block writer makes what TFX's writer would: this executor's examples (a subclass
        may change them: images), split by hash, as ``tf.Example``s."""
        payload = exec_properties.get(standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
        return (
            type(self).GenerateExamplesByBeam is BaseExampleGenExecutor.GenerateExamplesByBeam
            and self.GetInputSourceToExamplePTransform() is _csv_to_example
            and not output_config.split_config.HasField("partition_feature_name")
            and payload in (None, example_gen_pb2.FORMAT_TF_EXAMPLE)
        )

    def Do(self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict[str, Any]) -> None:
        input_config, output_config = example_gen_pb2.Input(), example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        if not self._writes_blocks(output_config, exec_properties):
            super().Do(input_dict, output_dict, exec_properties)
            return
        self._log_startup(input_dict, output_dict, exec_properties)
        examples = output_dict[standard_component_specs.EXAMPLES_KEY]
        names = example_gen_utils.generate_output_split_names(input_config, output_config)
        artifact_utils.get_single_instance(examples).split_names = artifact_utils.encode_split_names(names)
        if output_config.split_config.splits:
            if len(input_config.splits) != 1:
                raise ValueError("input must have only one split when output split is specified")
            buckets = split_writer.buckets_of([s.hash_buckets for s in output_config.split_config.splits])
            groups = [(input_config.splits[0].pattern, names, buckets)]
        else:  # one output split per input split: every example in bucket 0
            groups = [(split.pattern, [name], [1]) for split, name in zip(input_config.splits, names, strict=True)]
        with self._make_beam_pipeline() as pipeline:
            for pattern, split_names, buckets in groups:
                uris = [artifact_utils.get_split_uri(examples, name) for name in split_names]
                files = split_files(exec_properties, pattern)
                _ = pipeline | f"CsvToShards[{','.join(split_names)}]" >> CsvToShards(files, uris, buckets)
        for artifact in examples:
            set_formats(artifact, exec_properties)
