"""CsvExampleGen's block writer on ``gs://`` (the GCS emulator): the CSV read from a bucket, each split's
shards written to one, the same examples in the same splits as a local run."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

pytest.importorskip("tfx")

from components import csv_example_gen as gen
from components import filesystem as fs
from components import split_writer
from tests.unit.test_split_writer import corpus, run, split_records


def test_shards_are_written_to_a_bucket(bucket: str, tmp_path: Path) -> None:
    corpus(tmp_path / "data")
    for path in sorted((tmp_path / "data").iterdir()):
        fs.write_bytes(f"{bucket}/data/{path.name}", path.read_bytes())
    remote = run(gen.Executor, f"{bucket}/data", f"{bucket}/examples", {"train": 4, "eval": 1})
    local = run(gen.Executor, str(tmp_path / "data"), str(tmp_path / "examples"), {"train": 4, "eval": 1})
    for split in ("train", "eval"):
        names = fs.listdir(f"{bucket}/examples/Split-{split}")
        assert names == [split_writer.shard_name(i, 3) for i in range(3)]  # no temporary object left
        records = split_records(remote.uri, split)
        assert collections.Counter(records) == collections.Counter(split_records(local.uri, split))
    assert remote.split_names == local.split_names
