"""The span store inside ExampleGen's executor, run directly on month folders (Beam's DirectRunner).

What a store run writes must be what ExampleGen writes without it (the same examples in the same
splits); an unchanged month is copied, a new or rewritten one encoded, and a month is encoded
again when another month changes a column's type.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from components import csv_example_gen, span_store
from tests.spans.records import read_records

pytest.importorskip("tfx")

PATTERN = "{YYYY}-{MM}/*.csv"
HEADER = ["age", "city", "income", "clicked"]


def write_month(base: Path, month: str, rows: int, seed: int, income: str = "int") -> Path:
    path = base / month / "ads.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            value = f"{(i * 37 + seed) % 900 * 10}" + (".5" if income == "float" and i == 3 else "")
            out.writerow([20 + (i * seed) % 50, f"city{(i + seed) % 7}", value, (i + seed) % 2])
    return path


def example_gen(base: Path, pattern: str, out: Path, store: Path | None) -> object:
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    examples = standard_artifacts.Examples()
    examples.uri = str(out)
    splits = [
        example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=4),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1),
    ]
    props = {
        "input_base": str(base),
        "input_config": proto_utils.proto_to_json(
            example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern=pattern)])
        ),
        "output_config": proto_utils.proto_to_json(
            example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=splits))
        ),
        "output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE,
        "output_file_format": example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    }
    if store is not None:
        props["custom_config"] = proto_utils.proto_to_json(span_store.custom_config(str(store), PATTERN))
        span_store.Executor().Do({}, {"examples": [examples]}, props)
    else:
        csv_example_gen.Executor().Do({}, {"examples": [examples]}, props)
    return examples


def records(out: Path, split: str, prefix: str = "") -> list[bytes]:
    files = sorted((out / f"Split-{split}").glob(f"{prefix}*"))
    return sorted(r for f in files for r in read_records(f))


def store_record(examples: object) -> dict:
    return json.loads(examples.get_string_custom_property(span_store.PROPERTY))


def test_unit_is_the_path_up_to_the_last_placeholder():
    assert span_store.unit_of("2026-10/part-1.csv", "{YYYY}-{MM}/*.csv") == "2026-10"
    assert span_store.unit_of("2026/10/a.csv", "{YYYY}/{MM}/*.csv") == "2026/10"
    assert span_store.unit_of("drops/ads-2026-10.csv", "drops/ads-{YYYY}-{MM}.csv") == "drops/ads-2026-10.csv"


def test_settings_round_trip_through_the_custom_config_proto():
    from tfx.utils import proto_utils

    raw = proto_utils.proto_to_json(span_store.custom_config("gs://b/root/span_store", PATTERN))
    assert span_store.store_settings({"custom_config": raw}) == ("gs://b/root/span_store", PATTERN)
    assert span_store.store_settings({}) is None


def test_only_the_new_month_is_encoded_and_the_examples_are_examplegens(tmp_path):
    data, store = tmp_path / "data", tmp_path / "store"
    write_month(data, "2026-09", 400, seed=3)
    first = example_gen(data, "2026-09/*.csv", tmp_path / "run1", store)
    assert store_record(first)["encoded"] == {"2026-09": 400}

    write_month(data, "2026-10", 300, seed=5)
    second = example_gen(data, "2026-[01][90]/*.csv", tmp_path / "run2", store)
    record = store_record(second)
    assert record["encoded"] == {"2026-10": 300}
    assert record["reused"] == {"2026-09": 400}
    patterns = {"train": "Split-train/encoded-*", "eval": "Split-eval/encoded-*"}
    assert span_store.encoded_split_patterns(second) == patterns
    example_gen(data, "2026-[01][90]/*.csv", tmp_path / "plain", None)
    for split in ("train", "eval"):  # the same examples in the same split as ExampleGen without the store
        assert records(tmp_path / "run2", split) == records(tmp_path / "plain", split)
    new_rows = sum(len(records(tmp_path / "run2", s, "encoded-")) for s in ("train", "eval"))
    old_rows = sum(len(records(tmp_path / "run2", s, "reused-")) for s in ("train", "eval"))
    assert (new_rows, old_rows) == (300, 400)


def test_a_rewritten_month_is_encoded_again_and_old_entries_pruned(tmp_path):
    data, store = tmp_path / "data", tmp_path / "store"
    write_month(data, "2026-09", 200, seed=3)
    write_month(data, "2026-10", 200, seed=5)
    example_gen(data, "2026-[01][90]/*.csv", tmp_path / "run1", store)
    path = write_month(data, "2026-09", 150, seed=4)
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    record = store_record(example_gen(data, "2026-[01][90]/*.csv", tmp_path / "run2", store))
    assert record["encoded"] == {"2026-09": 150}
    assert record["reused"] == {"2026-10": 200}
    assert len(list((store / "shards").iterdir())) == 2  # the old 2026-09 entry is gone


def test_a_type_change_in_the_new_month_reencodes_the_old_one(tmp_path):
    data, store = tmp_path / "data", tmp_path / "store"
    write_month(data, "2026-09", 200, seed=3)
    example_gen(data, "2026-09/*.csv", tmp_path / "run1", store)
    write_month(data, "2026-10", 200, seed=5, income="float")  # income: int -> float over both months
    record = store_record(example_gen(data, "2026-[01][90]/*.csv", tmp_path / "run2", store))
    assert record["encoded"] == {"2026-09": 200, "2026-10": 200}
    plain = tmp_path / "plain"
    example_gen(data, "2026-[01][90]/*.csv", plain, None)
    assert records(tmp_path / "run2", "train") == records(plain, "train")


def test_without_a_store_it_is_examplegen_unchanged(tmp_path):
    data = tmp_path / "data"
    write_month(data, "2026-09", 100, seed=3)
    examples = span_store.Executor()
    assert isinstance(examples, csv_example_gen.Executor)
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    out = standard_artifacts.Examples()
    out.uri = str(tmp_path / "out")
    split = example_gen_pb2.SplitConfig.Split
    props = {
        "input_base": str(data),
        "input_config": proto_utils.proto_to_json(
            example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*/*.csv")])
        ),
        "output_config": proto_utils.proto_to_json(
            example_gen_pb2.Output(
                split_config=example_gen_pb2.SplitConfig(
                    splits=[split(name="train", hash_buckets=4), split(name="eval", hash_buckets=1)]
                )
            )
        ),
    }
    examples.Do({}, {"examples": [out]}, props)
    assert not out.has_custom_property(span_store.PROPERTY)
    assert len(records(tmp_path / "out", "train")) + len(records(tmp_path / "out", "eval")) == 100


def test_the_summary_names_each_month_encoded_or_reused():
    from pipelines.results.summary import RunSummary, format_table

    summary = RunSummary(status="succeeded", pipeline="ad_click", run_id="r", seconds=1.0, components=[])
    summary.spans = {"encoded": {"2026-10": 20000}, "reused": {"2026-09": 19000}}
    assert "spans: 2026-10 (20,000 rows) encoded, 2026-09 (19,000 rows) reused" in format_table(summary)
    assert json.loads(summary.to_json())["spans"]["reused"] == {"2026-09": 19000}


def test_statistics_read_only_the_encoded_shards_of_a_store_artifact(tmp_path):
    from tfx.components.util import examples_utils

    from components.span_statistics import new_data_view

    data, store = tmp_path / "data", tmp_path / "store"
    write_month(data, "2026-09", 100, seed=3)
    plain = example_gen(data, "2026-09/*.csv", tmp_path / "plain", None)
    assert new_data_view(plain) is plain  # no store: every shard
    write_month(data, "2026-10", 100, seed=5)
    example_gen(data, "2026-09/*.csv", tmp_path / "run1", store)
    second = example_gen(data, "2026-[01][90]/*.csv", tmp_path / "run2", store)
    view = new_data_view(second)
    (pattern,) = examples_utils.get_split_file_patterns([view], "train")
    assert sorted(Path(p).name for p in Path(pattern).parent.glob(Path(pattern).name)) == [
        "encoded-2026-10-data_tfrecord-00000-of-00001.gz"
    ]
    assert examples_utils.get_split_file_patterns([second], "train") == [str(tmp_path / "run2" / "Split-train" / "*")]


@pytest.mark.parametrize(
    ("settings", "store"),
    [
        (["data.pattern='{YYYY}-{MM}/*.csv'", "data.rolling_spans=2"], True),
        (["data.pattern='{YYYY}-{MM}/*.csv'"], False),  # the newest month only: nothing to reuse
        ([], False),  # no spans: the pipeline (and the compiled golden files) as before
    ],
)
def test_the_store_is_built_only_for_rolling_months(tmp_path, settings, store):
    from pipelines.build import build_components
    from pipelines.config import load_config

    for month in ("2026-09", "2026-10"):
        write_month(tmp_path / "d", month, 5, seed=1)
    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(
        repo / "configs" / "ad_click.yaml", [f"data.source={tmp_path / 'd'}", f"pipeline.root={tmp_path}", *settings]
    )
    nodes = {c.id: c for c in build_components(cfg, until="validate")}
    executors = [nodes[n].executor_spec.executor_class.__module__ for n in ("CsvExampleGen", "StatisticsGen")]
    if store:
        assert executors == ["components.span_store", "components.span_statistics"]
        raw = nodes["CsvExampleGen"].exec_properties["custom_config"]
        assert span_store.store_settings({"custom_config": raw}) == (str(tmp_path / "span_store"), PATTERN)
    else:
        assert not {"components.span_store", "components.span_statistics"} & set(executors)
        assert not nodes["CsvExampleGen"].exec_properties.get("custom_config")
