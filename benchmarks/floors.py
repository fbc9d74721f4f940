"""The data components against their vectorised floors, and ExampleGen before/after, in one process.

    python -m benchmarks.floors --rows 200000 [--rows 2000000]

For each size, on ``python -m pipelines.datagen ad_click`` data (generated into ``--data`` if absent):

- CsvExampleGen, the project's executor (``components.csv_example_gen``: pyarrow, vectorised encoding,
  each file's shards written where it is encoded by ``components.split_writer``), the same reader with
  TFX's per-example writer (``benchmarks.legacy_example_gen.TfxWriterExecutor``: before the block
  writer), and the executor as it was before the Arrow path (every row read by ``components.csv_cells``
  in Python, typed by tfx_bsl's ``ColumnTypeInferrer``, TFX's ``_ParsedCsvToTfExample``), each through
  its real ``Do()`` (Beam DirectRunner in memory, one worker, as a pipeline run). The outputs are
  checked to hold the same examples (SHA-256 of every record) per split.
- Where the new executor's time goes, its steps run one after the other without Beam: building the
  executor (TFX builds a ``tfx_ephemeral`` sdist when the Beam args name no package), scanning the
  file (column types), encoding it, and splitting and writing the shards.
- ExampleGen's floor: pyarrow reads the CSV, tfx-bsl's C++ ``RecordBatchToExamples`` encodes it, a
  gzipped TFRecord is written; one process, no Beam.
- StatisticsGen's real ``Do()`` on the new examples (both splits), with the options the pipeline
  passes (``pipelines.build.pipeline.statistics_options()``), and with each ``--stats-options``.
- StatisticsGen's floor: the same TFRecords decoded to Arrow (tfx-bsl) and TFDV's
  ``generate_statistics_in_memory`` per split; one process, no Beam.

Writes ``benchmarks/results/floors.md`` (``--out``), with the load average beside every figure: the
machine may be shared, so the ratios measured side by side matter more than the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SPLITS = {"train": 4, "eval": 1}


def _timed(fn: Callable[[], Any]) -> dict[str, Any]:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    fn()
    print(f"{time.perf_counter() - start:.2f} s", file=sys.stderr, flush=True)
    return {"s": round(time.perf_counter() - start, 2), "load": f"{load:.1f}/{os.getloadavg()[0]:.1f}"}


def _legacy() -> type:
    from benchmarks.legacy_example_gen import LegacyExecutor  # TFX: imported only here

    return LegacyExecutor


def _tfx_writer() -> type:
    from benchmarks.legacy_example_gen import TfxWriterExecutor

    return TfxWriterExecutor


def _beam_context() -> Any:
    """Beam's defaults: the DirectRunner in memory, one worker, as the pipeline runs it. With no Beam
    args no executor here builds TFX's ``tfx_ephemeral`` sdist, which the pipeline's executors skip
    too (``components.local_beam``)."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    return BaseBeamExecutor.Context(beam_pipeline_args=[])


def run_example_gen(executor_cls: type, data_dir: str, out: str) -> None:
    from tfx.proto import example_gen_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    examples = standard_artifacts.Examples()
    examples.uri = out
    splits = [example_gen_pb2.SplitConfig.Split(name=n, hash_buckets=b) for n, b in SPLITS.items()]
    exec_properties = {
        "input_base": data_dir,
        "input_config": proto_utils.proto_to_json(
            example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern="*.csv")])
        ),
        "output_config": proto_utils.proto_to_json(
            example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=splits))
        ),
        "output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE,
        "output_file_format": example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    }
    executor_cls(_beam_context()).Do({}, {"examples": [examples]}, exec_properties)


def example_gen_floor(csv_path: str, out: str) -> None:
    """pyarrow's reader, tfx-bsl's C++ encoder, one gzipped TFRecord file."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import tensorflow as tf
    from tfx_bsl.coders import example_coder

    table = pcsv.read_csv(csv_path)
    columns = []
    for col in table.columns:
        col = col.combine_chunks()
        if pa.types.is_integer(col.type):
            values = col.cast(pa.int64())
        elif pa.types.is_floating(col.type):
            values = col.cast(pa.float32())
        else:
            values = col.cast(pa.string()).cast(pa.large_binary())
        offsets = pa.array(range(len(values) + 1), pa.int64())
        columns.append(pa.LargeListArray.from_arrays(offsets, values))
    encoded = pa.Table.from_arrays(columns, table.column_names)
    with tf.io.TFRecordWriter(os.path.join(out, "floor.gz"), options="GZIP") as writer:
        for chunk in encoded.to_batches(max_chunksize=65536):
            for record in example_coder.RecordBatchToExamples(chunk):
                writer.write(record)


def run_statistics_gen(examples_uri: str, out: str, options: Any | None) -> None:
    from tfx.components.statistics_gen.executor import Executor
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = examples_uri
    examples.split_names = artifact_utils.encode_split_names(list(SPLITS))
    stats = standard_artifacts.ExampleStatistics()
    stats.uri = out
    props = {"exclude_splits": "[]"}
    if options is not None:
        props["stats_options_json"] = options.to_json()
    Executor(_beam_context()).Do({"examples": [examples]}, {"statistics": [stats]}, props)


def statistics_floor(examples_uri: str) -> None:
    import pyarrow as pa
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from tensorflow_data_validation.statistics.stats_impl import generate_statistics_in_memory
    from tfx_bsl.coders import example_coder

    for split in SPLITS:
        files = sorted(str(p) for p in Path(examples_uri, f"Split-{split}").glob("*.gz"))
        dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(65536)
        decoder = example_coder.ExamplesToRecordBatchDecoder()
        batches = [decoder.DecodeBatch(list(records)) for records in dataset.as_numpy_iterator()]
        table = pa.Table.from_batches(batches).combine_chunks()
        generate_statistics_in_memory(table.to_batches()[0], tfdv.StatsOptions())


def count_records(examples_uri: str) -> dict[str, int]:
    return {split: len(digests) for split, digests in record_digests(examples_uri).items()}


def record_digests(examples_uri: str) -> dict[str, list[bytes]]:
    """The SHA-256 of every record per split, sorted (read by TensorFlow, so each file's CRCs are checked)."""
    import hashlib

    import tensorflow as tf

    digests = {}
    for split in SPLITS:
        files = sorted(str(p) for p in Path(examples_uri, f"Split-{split}").glob("*.gz"))
        batches = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(65536).as_numpy_iterator()
        digests[split] = sorted(hashlib.sha256(r).digest() for batch in batches for r in batch)
    return digests


def example_gen_steps(data_dir: str, out: str) -> dict[str, Any]:
    """The new executor's steps one after the other, no Beam: where its time goes."""
    from components import csv_example_gen as gen
    from components import split_writer

    files = sorted(str(p) for p in Path(data_dir).glob("*.csv"))
    columns = gen.split_columns(files)
    steps: dict[str, Any] = {"construct": _timed(lambda: gen.Executor(_beam_context()))}
    scans: list[Any] = []
    steps["scan"] = _timed(lambda: scans.extend(gen.scan(f, columns) for f in files))
    kinds = gen._MergeKinds(columns).merge_accumulators([s[1] for s in scans])
    kinds = gen._MergeKinds(columns).extract_output(kinds)
    batches: list[list[bytes]] = []
    steps["encode"] = _timed(lambda: [batches.extend(gen.file_example_batches(s, columns, kinds)) for s in scans])
    paths = [os.path.join(out, f"Split-{split}", "steps.gz") for split in SPLITS]
    buckets = split_writer.buckets_of(list(SPLITS.values()))
    steps["split_and_write"] = _timed(lambda: split_writer.write_shards(batches, paths, buckets))
    return steps


def measure(
    rows: int, data_root: str, skip_old: bool, skip_tfx_writer: bool, variants: list[str] | None
) -> dict[str, Any]:
    import tensorflow_data_validation as tfdv

    from components.csv_example_gen import Executor
    from pipelines.build import pipeline

    data_dir = os.path.join(data_root, str(rows))
    csv_path = os.path.join(data_dir, "ad_click.csv")
    if not os.path.exists(csv_path):
        cmd = [sys.executable, "-m", "pipelines.datagen", "ad_click", "--rows", str(rows), "--out", data_dir]
        subprocess.run([*cmd, "--seed", "7"], check=True, cwd=REPO)
    result: dict[str, Any] = {"rows": rows, "load_start": f"{os.getloadavg()[0]:.1f}"}
    with tempfile.TemporaryDirectory(prefix="floors-") as tmp:
        new, old = os.path.join(tmp, "new"), os.path.join(tmp, "old")
        result["pandas_read"] = _timed(lambda: __import__("pandas").read_csv(csv_path))
        result["example_gen_floor"] = _timed(lambda: example_gen_floor(csv_path, tmp))
        result["example_gen_new"] = _timed(lambda: run_example_gen(Executor, data_dir, new))
        result["counts_new"] = count_records(new)
        result["example_gen_steps"] = example_gen_steps(data_dir, os.path.join(tmp, "steps"))
        if not skip_tfx_writer:
            tfx_writer = os.path.join(tmp, "tfx_writer")
            result["example_gen_tfx_writer"] = _timed(lambda: run_example_gen(_tfx_writer(), data_dir, tfx_writer))
            result["same_examples_tfx_writer"] = record_digests(tfx_writer) == record_digests(new)
        if not skip_old:
            result["example_gen_old"] = _timed(lambda: run_example_gen(_legacy(), data_dir, old))
            result["counts_old"] = count_records(old)
        if variants is None:  # --skip-statistics
            return result
        result["statistics_floor"] = _timed(lambda: statistics_floor(new))
        options = getattr(pipeline, "statistics_options", lambda: None)()
        result["statistics_gen"] = _timed(lambda: run_statistics_gen(new, os.path.join(tmp, "s0"), options))
        result["statistics_variants"] = {}
        for i, variant in enumerate(variants, 1):
            opts = tfdv.StatsOptions(**json.loads(variant)) if variant != "defaults" else None
            out = os.path.join(tmp, f"s{i}")
            result["statistics_variants"][variant] = _timed(lambda: run_statistics_gen(new, out, opts))  # noqa: B023
    return result


def _row(name: str, real: dict[str, Any] | None, floor: dict[str, Any], note: str = "") -> str:
    if real is None:
        return f"| {name} | not run | {floor['s']} s ({floor['load']}) | | {note} |"
    ratio = real["s"] / floor["s"] if floor["s"] else float("nan")
    return f"| {name} | {real['s']} s ({real['load']}) | {floor['s']} s ({floor['load']}) | {ratio:.1f}x | {note} |"


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Data components against their vectorised floors",
        "",
        "`python -m benchmarks.floors` (see its docstring). Each size in one process, one after the other;",
        "load average (1 min) before/after each figure in brackets: the machine was shared, so read the",
        "ratios, measured side by side, rather than the seconds.",
        "",
    ]
    for r in results:
        old, new, tfx_writer = r.get("example_gen_old"), r["example_gen_new"], r.get("example_gen_tfx_writer")
        same = r.get("counts_old") in (None, r["counts_new"])
        same_tfx = "yes" if r.get("same_examples_tfx_writer") else "NO"
        lines += [
            f"## {r['rows']:,} rows (load at start {r['load_start']})",
            "",
            "| component | real | floor | ratio to floor | note |",
            "|---|---:|---:|---:|---|",
            _row("CsvExampleGen, new (block writer)", new, r["example_gen_floor"], f"split counts {r['counts_new']}"),
            _row(
                "CsvExampleGen, before: Arrow reader, TFX's writer",
                tfx_writer,
                r["example_gen_floor"],
                f"same examples per split (SHA-256 of each): {same_tfx}",
            ),
            _row(
                "CsvExampleGen, before 09a316a: Python reader",
                old,
                r["example_gen_floor"],
                f"same split counts: {'yes' if same else 'NO ' + str(r.get('counts_old'))}",
            ),
        ]
        if "statistics_gen" in r:
            lines.append(
                _row("StatisticsGen, pipeline options", r["statistics_gen"], r["statistics_floor"], "2 splits")
            )
        for variant, figure in r.get("statistics_variants", {}).items():
            lines.append(_row(f"StatisticsGen, `{variant}`", figure, r["statistics_floor"], "--stats-options"))
        lines.append("")
        if tfx_writer:
            lines.append(
                f"CsvExampleGen, TFX's writer -> block writer: {tfx_writer['s']} s -> {new['s']} s "
                f"({tfx_writer['s'] / new['s']:.1f}x faster)."
            )
        if old:
            speedup = old["s"] / new["s"]
            lines.append(f"CsvExampleGen, Python reader -> now: {old['s']} s -> {new['s']} s ({speedup:.1f}x faster).")
        steps = r["example_gen_steps"]
        lines.append(
            "The new executor's steps, one after the other without Beam: "
            + ", ".join(f"{name.replace('_', ' ')} {f['s']} s ({f['load']})" for name, f in steps.items())
            + "."
        )
        lines += [f"pandas reads the same CSV in {r['pandas_read']['s']} s ({r['pandas_read']['load']}).", ""]
    lines += [
        "Floors: ExampleGen = pyarrow `read_csv` + tfx-bsl `RecordBatchToExamples` + one gzipped TFRecord;",
        "StatisticsGen = the examples decoded to Arrow by tfx-bsl + TFDV `generate_statistics_in_memory` per split.",
        "",
        "CsvExampleGen no longer hands TFX's writer one Beam element per example (hashed to a split by",
        "`_PartitionFn`, `Reshuffle`d, written by `WriteToTFRecord`): each file's examples are split by the",
        "same hash and written as one gzipped TFRecord shard per split where they are encoded",
        "(`components/split_writer.py`). What is left against the floor is in the steps line: the file is",
        "read twice (the global column types come first), the encoder is numpy (the floor's is C++, but",
        "writes features in hash order, which would move examples between splits), the split hash and",
        "TFRecord framing are a Python loop per example, and building the executor costs TFX's",
        "`tfx_ephemeral` sdist. StatisticsGen's gap is Beam's per-batch work and TFDV's",
        "exact top-k/unique counts (a Beam transform per string value); the pipeline runs TFDV's generators on",
        "batches of 10,000 rows (`pipelines.build.pipeline.statistics_options`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.floors", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, action="append", help="data size (repeatable; default 200000)")
    p.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "floors-data"), help="generated CSVs")
    p.add_argument("--skip-old", action="store_true", help="do not time the executor before the Arrow path")
    p.add_argument("--skip-tfx-writer", action="store_true", help="do not time the executor with TFX's writer")
    p.add_argument("--skip-statistics", action="store_true", help="time CsvExampleGen only")
    p.add_argument(
        "--stats-options",
        action="append",
        default=[],
        help='also time StatisticsGen with these TFDV StatsOptions (JSON keyword arguments, or "defaults")',
    )
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="results directory")
    args = p.parse_args(argv)
    results = []
    for rows in args.rows or [200000]:
        variants = None if args.skip_statistics else args.stats_options
        results.append(measure(rows, args.data, args.skip_old, args.skip_tfx_writer, variants))
        print(json.dumps(results[-1]), flush=True)
        Path(args.out, "floors.md").write_text(report(results), encoding="utf-8")
    print(f"wrote {Path(args.out, 'floors.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
