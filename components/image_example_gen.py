"""ExampleGen for CSV rows that point at images: each example gets the image's bytes, not its path.

The CSV executor (``components.csv_example_gen``) makes and splits the examples; this one then
replaces, in every example, the value of each image column
(``features.<column>: {transform: image}``) with the bytes of the file it names. A relative
path is read from the data folder (``data.source``, local or ``gs://``), an absolute one or a
``gs://`` URL as it is. One row at a time, so memory holds no more images than Beam's bundle.

A file that is missing, unreadable, in a format TensorFlow cannot decode (not PNG, JPEG, GIF
or BMP) or corrupt (Pillow fails to decode it) is not fatal: the example keeps no value for
the column (a missing feature), and the row is counted. ``image_report.json`` beside the
splits in the examples folder records, per column, the rows, the missing and the bad ones
with the first few paths and reasons, and the decoded sizes; the validation gate turns it
into an anomaly (``components.image_checks.image_findings``).

Used when the config has an image feature (``pipelines.build.pipeline``): the columns come
in ExampleGen's ``custom_config`` (a ``google.protobuf.Struct`` ``{"image_columns": [...]}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from tfx.types import artifact_utils, standard_component_specs

from components import csv_example_gen
from components import filesystem as fs
from components.image_checks import REPORT_FILE
from components.image_files import add_row, empty_stats, finish_stats, merge_stats, read_image

__all__ = ["REPORT_FILE", "Executor", "ImageStats", "custom_config", "image_columns"]


def custom_config(columns: list[str]) -> Any:
    """ExampleGen's ``custom_config`` proto naming the image columns."""
    from google.protobuf import any_pb2, struct_pb2
    from tfx.proto import example_gen_pb2

    packed = any_pb2.Any()
    packed.Pack(struct_pb2.Struct(fields={"image_columns": struct_pb2.Value(list_value=_strings(columns))}))
    return example_gen_pb2.CustomConfig(custom_config=packed)


def _strings(values: list[str]) -> Any:
    from google.protobuf import struct_pb2

    return struct_pb2.ListValue(values=[struct_pb2.Value(string_value=v) for v in values])


def image_columns(exec_properties: dict[str, Any]) -> list[str]:
    """The image columns ExampleGen's ``custom_config`` (a JSON string of the proto) names; [] without."""
    from google.protobuf import struct_pb2
    from tfx.proto import example_gen_pb2
    from tfx.utils import proto_utils

    raw = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not raw:
        return []
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(raw, config)
    struct = struct_pb2.Struct()
    if not config.custom_config.Unpack(struct):
        return []
    return [v.string_value for v in struct.fields["image_columns"].list_value.values]


class ImageStats(beam.CombineFn):
    """Per column: rows, bad rows (the first few paths with reasons), sizes (``components.image_files``)."""

    def create_accumulator(self) -> dict[str, dict[str, Any]]:
        return {}

    def add_input(self, acc: dict[str, dict[str, Any]], row: tuple[str, str, str, int, int]) -> dict[str, Any]:
        column, *outcome = row
        add_row(acc.setdefault(column, empty_stats()), *outcome)
        return acc

    def merge_accumulators(self, accs: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for acc in accs:
            for column, s in acc.items():
                merge_stats(out.setdefault(column, empty_stats()), s)
        return out

    def extract_output(self, acc: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {column: finish_stats(s) for column, s in acc.items()}


class _AttachImages(beam.DoFn):
    """An example (``tf.train.Example`` or its serialized bytes) -> the same kind, with image bytes;
    a ``(column, path, reason, width, height)`` row per image to the ``stats`` output."""

    def __init__(self, base: str, columns: list[str]) -> None:
        self._base, self._columns = base, columns

    def process(self, element: Any) -> Iterator[Any]:
        import tensorflow as tf

        serialized = isinstance(element, bytes)
        example = tf.train.Example.FromString(element) if serialized else _copy(element)
        for column in self._columns:
            feature = example.features.feature.get(column)
            values = list(feature.bytes_list.value) if feature is not None else []
            path = values[0].decode("utf-8", errors="replace") if values else ""
            data, reason, (width, height) = read_image(self._base, path)
            if data is None:
                del example.features.feature[column]
            else:
                example.features.feature[column].bytes_list.value[:] = [data]
            yield beam.pvalue.TaggedOutput("stats", (column, path, reason, width, height))
        yield example.SerializeToString() if serialized else example


def _copy(example: Any) -> Any:
    out = type(example)()
    out.CopyFrom(example)  # Beam elements are immutable: edit a copy
    return out


def _write_report(stats: dict[str, Any], report_dir: str) -> None:
    fs.write_text(fs.join(report_dir, REPORT_FILE), json.dumps(stats, indent=2, sort_keys=True))


class Executor(csv_example_gen.Executor):
    """The CSV ExampleGen executor, with image bytes in place of the image columns' paths.

    The images are read after the rows are split, so a row's split (a hash of its CSV example)
    is the one it gets without images: a run with the image column dropped trains and evaluates
    on the same rows.
    """

    _report_dir: str | None = None

    def Do(self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict[str, Any]) -> None:
        self._report_dir = artifact_utils.get_single_uri(output_dict[standard_component_specs.EXAMPLES_KEY])
        super().Do(input_dict, output_dict, exec_properties)

    def GenerateExamplesByBeam(  # noqa: N802 (TFX's name)
        self, pipeline: beam.Pipeline, exec_properties: dict[str, Any]
    ) -> dict[str, beam.PCollection]:
        splits = super().GenerateExamplesByBeam(pipeline, exec_properties)
        columns = image_columns(exec_properties)
        if not columns:
            return splits
        attach = _AttachImages(exec_properties[standard_component_specs.INPUT_BASE_KEY], columns)
        out, stats = {}, []
        for name, examples in splits.items():
            done = examples | f"ReadImages[{name}]" >> beam.ParDo(attach).with_outputs("stats", main="examples")
            out[name] = done.examples
            stats.append(done.stats)
        if self._report_dir is not None:
            _ = (
                tuple(stats)
                | "AllImageStats" >> beam.Flatten()
                | "ImageStats" >> beam.CombineGlobally(ImageStats())
                | "WriteImageReport" >> beam.Map(_write_report, self._report_dir)
            )
        return out
