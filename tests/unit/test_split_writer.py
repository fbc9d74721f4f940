"""ExampleGen's block writer (components.split_writer) against TFX's writer (write_split.WriteSplit).

The reference is TFX's own path, kept reachable: the same executor with ``_writes_blocks`` off, so
each example is a Beam element, partitioned by TFX's ``_PartitionFn``, ``Reshuffle``d and written by
``WriteToTFRecord``. Both run through the real ``Do()`` on the DirectRunner; the examples of each
split are compared as multisets (TFX's order is random) and the artifact's properties as TFX sets them.
"""

from __future__ import annotations

import collections
import hashlib
import random

import pytest

pytest.importorskip("tfx")

from benchmarks.legacy_example_gen import TfxWriterExecutor as TfxWriter  # the executor with TFX's writer
from components import csv_example_gen as gen
from components import filesystem as fs
from components import split_writer
from tests.unit.test_csv_examples import BASIC


def write(folder, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def corpus(folder) -> None:
    """NA tokens, a BOM, quoted newlines, ints with missing values, several files, one on the Python path."""
    write(folder, "a_basic.csv", BASIC)
    header = "id, age ,score,name,note,empty_col,plus,Größe,big\n"
    rng = random.Random(5)
    rows = [
        f'{i},{rng.choice(["", "NA", str(rng.randint(0, 90))])},{rng.random():.4f},"n\n{i}",x,,1,2.5,{i}'
        for i in range(9, 400)
    ]
    write(folder, "b_many.csv", header + "\n".join(rows) + "\n")
    write(folder, "c_python.csv", header + "".join(f"{i},1,2,a,b,,3,4,5\n" for i in range(500, 520)))


@pytest.fixture
def python_path(monkeypatch):
    """``c_python.csv`` takes the Python path (as a file Arrow reads differently does), in blocks of 7."""
    scan_file = gen.arrow_csv.scan_file
    monkeypatch.setattr(gen, "PYTHON_BATCH", 7)
    monkeypatch.setattr(
        gen.arrow_csv, "scan_file", lambda p, n: (p, [], False) if p.endswith("c_python.csv") else scan_file(p, n)
    )


def run(executor_cls, data: str, out: str, splits: dict[str, int] | None = None, inputs: dict[str, str] | None = None):
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    examples = standard_artifacts.Examples()
    examples.uri = out
    inputs = inputs or {"single_split": "*.csv"}
    output = example_gen_pb2.Output()
    if splits:
        output.split_config.splits.extend(
            [example_gen_pb2.SplitConfig.Split(name=n, hash_buckets=b) for n, b in splits.items()]
        )
    exec_properties = {
        "input_base": data,
        "input_config": proto_utils.proto_to_json(
            example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name=n, pattern=p) for n, p in inputs.items()])
        ),
        "output_config": proto_utils.proto_to_json(output),
        "output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE,
        "output_file_format": example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    }
    executor_cls(BaseBeamExecutor.Context()).Do({}, {"examples": [examples]}, exec_properties)
    return examples


def split_records(uri: str, split: str) -> list[bytes]:
    return [r for path in fs.glob(fs.join(uri, f"Split-{split}", "*")) for r in split_writer.read_records(path)]


def test_partition_is_tfx_partition_fn():
    from tfx.components.example_gen.base_example_gen_executor import _PartitionFn
    from tfx.proto import example_gen_pb2

    rng = random.Random(7)
    records = [rng.randbytes(rng.randint(0, 300)) for _ in range(3000)]
    for hash_buckets in ([4, 1], [1, 2, 7], [3]):
        buckets = split_writer.buckets_of(hash_buckets)
        config = example_gen_pb2.SplitConfig(
            splits=[example_gen_pb2.SplitConfig.Split(name=str(i), hash_buckets=b) for i, b in enumerate(hash_buckets)]
        )
        split, order = split_writer.partition(records, buckets)
        assert split.tolist() == [_PartitionFn(r, len(buckets), buckets, config) for r in records]
        assert order.tolist() == [int(hashlib.sha256(r).hexdigest()[:16], 16) for r in records]


def test_frames_are_tensorflows_tfrecords(tmp_path):
    import tensorflow as tf

    records = [b"", b"x", b"\x00" * 300, "é".encode() * 70000]
    with tf.io.TFRecordWriter(str(tmp_path / "tf.tfrecord")) as writer:
        for record in records:
            writer.write(record)
    assert split_writer.frame(records) == (tmp_path / "tf.tfrecord").read_bytes()
    split_writer.write_shards([records], [str(tmp_path / "all.gz")], [1])
    read = tf.data.TFRecordDataset([str(tmp_path / "all.gz")], compression_type="GZIP")
    assert sorted(read.as_numpy_iterator()) == sorted(records)


@pytest.mark.parametrize("splits", [{"train": 4, "eval": 1}, {"a": 1, "b": 2, "c": 7}])
def test_each_split_holds_what_tfx_writes(tmp_path, splits, python_path):
    from tfx.types import artifact_utils

    corpus(tmp_path / "data")
    assert (
        gen.scan(str(tmp_path / "data" / "c_python.csv"), gen.split_columns([str(tmp_path / "data" / "c_python.csv")]))[
            2
        ]
        is False
    )
    new = run(gen.Executor, str(tmp_path / "data"), str(tmp_path / "new"), splits)
    old = run(TfxWriter, str(tmp_path / "data"), str(tmp_path / "old"), splits)
    total = 0
    for split in splits:
        records = split_records(new.uri, split)
        assert collections.Counter(records) == collections.Counter(split_records(old.uri, split)), split
        total += len(records)
        # one shard per input file, named as Beam names shards; ordered by the hash
        assert fs.listdir(fs.join(new.uri, f"Split-{split}")) == [split_writer.shard_name(i, 3) for i in range(3)]
        for path in fs.glob(fs.join(new.uri, f"Split-{split}", "*")):
            order = split_writer.partition(split_writer.read_records(path), split_writer.buckets_of([1]))[1]
            assert order.tolist() == sorted(order.tolist())
    assert total == 8 + 391 + 20
    assert artifact_utils.decode_split_names(new.split_names) == list(splits)
    assert new.mlmd_artifact.custom_properties == old.mlmd_artifact.custom_properties
    assert new.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert sorted(fs.listdir(new.uri)) == sorted(fs.listdir(old.uri))


def test_input_splits_are_written_as_tfx_writes_them(tmp_path):
    data = tmp_path / "data"
    write(data, "train/1.csv", "a,b\n1,x\n2,NA\n3,z\n")
    write(data, "eval/1.csv", "a,b\n4,y\n")
    inputs = {"train": "train/*.csv", "eval": "eval/*.csv"}
    new = run(gen.Executor, str(data), str(tmp_path / "new"), inputs=inputs)
    old = run(TfxWriter, str(data), str(tmp_path / "old"), inputs=inputs)
    for split, count in (("train", 3), ("eval", 1)):
        assert sorted(split_records(new.uri, split)) == sorted(split_records(old.uri, split))
        assert len(split_records(new.uri, split)) == count
    assert new.split_names == old.split_names


def test_a_retried_or_duplicated_bundle_writes_no_row_twice(tmp_path, monkeypatch):
    """A bundle is one file's shards; a retry after a failure or a duplicate of a finished bundle
    rewrites the same shard names with the same bytes."""
    corpus(tmp_path)
    files = gen.split_files({"input_base": str(tmp_path)}, "*.csv")
    columns = gen.split_columns(files)
    file_scan = gen.scan(files[1], columns)
    uris = [str(tmp_path / "out" / "Split-train"), str(tmp_path / "out" / "Split-eval")]
    write_bytes, calls = fs.write_bytes, []

    def fail_second_write(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("worker lost")
        write_bytes(path, data)

    monkeypatch.setattr(fs, "write_bytes", fail_second_write)
    with pytest.raises(OSError, match="worker lost"):
        gen._write_file(file_scan, columns, file_scan[1], files, uris, [4, 5])
    monkeypatch.setattr(fs, "write_bytes", write_bytes)
    first = gen._write_file(file_scan, columns, file_scan[1], files, uris, [4, 5])  # the retry
    again = gen._write_file(file_scan, columns, file_scan[1], files, uris, [4, 5])  # a duplicate
    assert first == again and sum(first) == 391
    for uri, count in zip(uris, first, strict=True):
        assert fs.listdir(uri) == [split_writer.shard_name(1, 3)]  # no temporary file left
        records = split_writer.read_records(fs.join(uri, split_writer.shard_name(1, 3)))
        assert len(records) == len(set(records)) == count


def test_what_the_block_writer_cannot_write_goes_through_tfx(tmp_path):
    from tfx.proto import example_gen_pb2

    by_feature = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(partition_feature_name="id"))
    plain = example_gen_pb2.Output()
    tf_example = {"output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE}

    class Images(gen.Executor):
        def GenerateExamplesByBeam(self, pipeline, exec_properties):  # noqa: N802
            return super().GenerateExamplesByBeam(pipeline, exec_properties)

    class OtherSource(gen.Executor):
        def GetInputSourceToExamplePTransform(self):  # noqa: N802
            return object()

    class SameSource(gen.Executor):  # as the span store's executor without a store
        def GetInputSourceToExamplePTransform(self):  # noqa: N802
            return super().GetInputSourceToExamplePTransform()

    assert gen.Executor()._writes_blocks(plain, tf_example)
    assert not gen.Executor()._writes_blocks(by_feature, tf_example)
    assert not gen.Executor()._writes_blocks(plain, {"output_data_format": example_gen_pb2.FORMAT_PARQUET})
    assert not Images()._writes_blocks(plain, tf_example)
    assert not OtherSource()._writes_blocks(plain, tf_example)
    assert SameSource()._writes_blocks(plain, tf_example)


def test_a_big_file_is_written_in_parts_with_bounded_rows(tmp_path):
    """A worker holds about ``part_rows`` examples of its file at a time; the parts together hold
    exactly what one shard would, each ordered by hash."""
    records = [f"example-{i}".encode() for i in range(50)]
    batches = [records[i : i + 4] for i in range(0, 50, 4)]
    one = [str(tmp_path / "one" / s / "x.gz") for s in ("train", "eval")]
    parts = [str(tmp_path / "parts" / s / "x.gz") for s in ("train", "eval")]
    whole = split_writer.write_shards(batches, one, [4, 5])
    counts = split_writer.write_shards(batches, parts, [4, 5], part_rows=10)
    assert counts == whole and sum(counts) == 50
    for single, path in zip(one, parts, strict=True):
        folder = path.rsplit("/", 1)[0]
        names = sorted(fs.listdir(folder), key=len)
        assert names == ["x.gz", *(f"x-part{k:04d}.gz" for k in range(1, len(names)))]
        assert len(names) == 5  # flushed before the batch that would pass 10 held rows: 12, 12, 12, 12, 2
        got = [r for name in names for r in split_writer.read_records(fs.join(folder, name))]
        assert sorted(got) == sorted(split_writer.read_records(single))
