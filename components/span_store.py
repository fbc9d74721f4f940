"""Per-span reuse for CsvExampleGen over rolling spans: a run encodes only the spans it has not seen.

With ``data.rolling_spans: N`` a run reads the newest N spans (month folders); without this
store every run re-encodes every one of them. Each span ("unit": the files of one span
folder, or one file when the placeholders are in the file name) is encoded on its own into
a content-addressed store under ``<pipeline.root>/span_store/``::

    scans/<scan key>.json               column types of the unit's files (tfx_bsl's rule)
    shards/<shard key>/Split-<split>/   the unit's serialized tf.Examples, split by TFX's own hash
    shards/<shard key>/unit.json        which unit, which files, how many rows

The scan key holds each file's path and fingerprint (size and mtime, or a ``gs://`` object's
generation and MD5), the header and the code version; the shard key adds the column types
merged over *all* units (a new month that turns an int column into a float one re-encodes the
old months too) and the split config. A rewritten file is a new fingerprint, so its unit is
encoded again. The Examples artifact gets a copy of every unit's shards (so pruning the store
never touches an artifact): ``Split-<split>/encoded-<unit>-...`` for the units encoded by this
run, ``reused-<unit>-...`` for the others; Transform, Trainer and Evaluator read all of them.
The artifact's ``span_store`` property gives the rows of each encoded and each reused unit, and a
split pattern over the encoded shards only: StatisticsGen profiles those
(``components.span_statistics``), so the data gate validates the new data and measures drift
against the statistics of the previous run, the previous span's.

Still TFX's ExampleGen: the same ``tf.Example`` bytes as ``components.csv_example_gen`` (same
reader, same global types), written by its block writer (``components.split_writer``: TFX's
split hash, one shard per file and split), one Beam pipeline (one element per file) for all the
units to encode.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import apache_beam as beam
from tfx.components.example_gen import utils as example_gen_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import csv_example_gen, split_writer
from components import filesystem as fs
from components.local_beam import LocalBeamExecutor

__all__ = [
    "ENCODED_PREFIX",
    "PROPERTY",
    "REUSED_PREFIX",
    "Executor",
    "custom_config",
    "encoded_split_patterns",
    "store_settings",
    "unit_of",
]

PROPERTY = "span_store"  # the Examples artifact's custom property (JSON)
ENCODED_PREFIX = "encoded-"  # shard names in the artifact: encoded by this run ...
REUSED_PREFIX = "reused-"  # ... or copied from the store
_METRICS = "span_store"
_CODE = ("csv_example_gen.py", "arrow_csv.py", "csv_cells.py", "split_writer.py", "span_store.py")


def custom_config(store_dir: str, span_pattern: str) -> Any:
    """ExampleGen's ``custom_config`` proto: where the store is and the pattern with its placeholders."""
    from google.protobuf import any_pb2, json_format, struct_pb2

    struct = struct_pb2.Struct()
    json_format.ParseDict({"span_store": store_dir, "span_pattern": span_pattern}, struct)
    packed = any_pb2.Any()
    packed.Pack(struct)
    return example_gen_pb2.CustomConfig(custom_config=packed)


def store_settings(exec_properties: dict[str, Any]) -> tuple[str, str] | None:
    """``(store dir, span pattern)`` from ExampleGen's ``custom_config``; None without a store."""
    from google.protobuf import json_format, struct_pb2

    raw = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not raw:
        return None
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(raw, config)
    struct = struct_pb2.Struct()
    if not config.custom_config.Unpack(struct):
        return None
    values = json_format.MessageToDict(struct)
    if "span_store" not in values:
        return None
    return values["span_store"], values["span_pattern"]


def unit_of(relative_path: str, span_pattern: str) -> str:
    """The unit a file belongs to: its path up to the last part of ``span_pattern`` with a placeholder.

    Example:
        >>> unit_of("2026-10/part-1.csv", "{YYYY}-{MM}/*.csv")
        '2026-10'
    """
    parts = span_pattern.split("/")
    last = max((i for i, part in enumerate(parts) if "{" in part), default=len(parts) - 1)
    return "/".join(relative_path.split("/")[: last + 1])


def encoded_split_patterns(examples: Any) -> dict[str, str] | None:
    """Each split's file pattern (relative to the artifact) over the shards this run encoded; None
    when the artifact has no store property or nothing was encoded (then read every shard)."""
    if not examples.has_custom_property(PROPERTY):
        return None
    return json.loads(examples.get_string_custom_property(PROPERTY)).get("encoded_patterns") or None


def _code_version() -> str:
    """Digest of the reader's, encoder's and writer's code and the packages they use: new code, new shards."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _CODE:
        h.update(fs.read_bytes(str(here / name)))
    for package in ("tfx-bsl", "pyarrow", "tfx"):
        h.update(metadata.version(package).encode())
    return h.hexdigest()


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _label(unit: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", unit)


def _relative(path: str, base: str) -> str:
    prefix = base.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else fs.basename(path)


def _write_file(
    item: tuple[str, str, bool, list[str]], columns: list[str], kinds: list[int], buckets: list[int]
) -> None:
    """Encode one file of a unit into its shards in the unit's store folder (one per split)."""
    unit, path, fast, shard_paths = item
    counts = split_writer.write_shards(
        csv_example_gen.file_example_batches((path, kinds, fast), columns, kinds), shard_paths, buckets
    )
    beam.metrics.Metrics.counter(_METRICS, unit).inc(sum(counts))


class Executor(LocalBeamExecutor, csv_example_gen.Executor):
    """``components.csv_example_gen``'s executor with the span store; without one in
    ``custom_config`` it is that executor unchanged. No ``tfx_ephemeral`` sdist on the
    DirectRunner (``components.local_beam``), as the pipeline's other Beam executors."""

    def Do(self, input_dict: dict[str, Any], output_dict: dict[str, Any], exec_properties: dict[str, Any]) -> None:
        settings = store_settings(exec_properties)
        input_config, output_config = example_gen_pb2.Input(), example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        if (
            settings is None
            or len(input_config.splits) != 1
            or not output_config.split_config.splits
            or not self._writes_blocks(output_config, exec_properties)
        ):  # what the store does not cover: ExampleGen as it is
            super().Do(input_dict, output_dict, exec_properties)
            return
        self._log_startup(input_dict, output_dict, exec_properties)
        store, span_pattern = settings
        base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        pattern = fs.join(base, input_config.splits[0].pattern)
        files = sorted(fs.glob(pattern))
        if not files:
            raise RuntimeError(f"split pattern {pattern} matches no files")
        columns = csv_example_gen.split_columns(files)
        units: dict[str, list[str]] = {}
        for path in files:
            units.setdefault(unit_of(_relative(path, base), span_pattern), []).append(path)
        code = _code_version()
        scans = {unit: self._scan(store, code, unit, unit_files, columns, base) for unit, unit_files in units.items()}
        merge = csv_example_gen._MergeKinds(columns)  # the same merge as ExampleGen's own pipeline
        acc = merge.create_accumulator()
        for scan in scans.values():
            for kinds in scan["kinds"]:
                acc = merge.add_input(acc, kinds)
        kinds = merge.extract_output(acc)
        split_config = proto_utils.proto_to_json(output_config.split_config)
        keys = {
            unit: _key(code, columns, kinds, split_config, scans[unit]["files"], scans[unit]["fingerprints"])
            for unit in units
        }
        todo = [unit for unit in units if not fs.exists(fs.join(store, "shards", keys[unit], "unit.json"))]
        split_names = example_gen_utils.generate_output_split_names(input_config, output_config)
        buckets = split_writer.buckets_of([split.hash_buckets for split in output_config.split_config.splits])
        rows = self._encode(store, todo, units, keys, scans, columns, kinds, split_names, buckets) if todo else {}

        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        examples.split_names = artifact_utils.encode_split_names(split_names)
        for unit in units:
            prefix = (ENCODED_PREFIX if unit in todo else REUSED_PREFIX) + _label(unit) + "-"
            for split in split_names:
                source = fs.join(store, "shards", keys[unit], f"Split-{split}")
                for shard in sorted(fs.listdir(source)):
                    fs.copy(fs.join(source, shard), fs.join(examples.uri, f"Split-{split}", prefix + shard))
        record = {
            "encoded": {unit: rows.get(unit) for unit in todo},
            "reused": {u: _rows(fs.join(store, "shards", keys[u])) for u in units if u not in todo},
            "encoded_patterns": {s: f"Split-{s}/{ENCODED_PREFIX}*" for s in split_names} if todo else None,
        }
        examples.set_string_custom_property(PROPERTY, json.dumps(record, sort_keys=True))
        csv_example_gen.set_formats(examples, exec_properties)
        from absl import logging

        logging.info("span store: encoded %s, reused %s", record["encoded"] or "nothing", record["reused"] or "nothing")
        _prune(store, {keys[u] for u in units}, {scans[u]["key"] for u in units})

    @staticmethod
    def _scan(store: str, code: str, unit: str, files: list[str], columns: list[str], base: str) -> dict[str, Any]:
        """The unit's per-file column types: from the store when its files are unchanged, else read."""
        names = [_relative(f, base) for f in files]
        fingerprints = [fs.fingerprint(f) for f in files]
        key = _key(code, columns, names, fingerprints)
        path = fs.join(store, "scans", f"{key}.json")
        if fs.exists(path):
            return json.loads(fs.read_text(path))
        results = [csv_example_gen.scan(f, columns) for f in files]
        scan = {
            "key": key,
            "unit": unit,
            "files": names,
            "fingerprints": fingerprints,
            "kinds": [r[1] for r in results],
            "fast": [r[2] for r in results],
        }
        fs.write_text(path, json.dumps(scan))
        return scan

    def _encode(
        self,
        store: str,
        todo: list[str],
        units: dict[str, list[str]],
        keys: dict[str, str],
        scans: dict[str, dict[str, Any]],
        columns: list[str],
        kinds: list[int],
        split_names: list[str],
        buckets: list[int],
    ) -> dict[str, int]:
        """Encode the ``todo`` units in one Beam pipeline (one element per file), each into its key's
        folder, split by TFX's hash (``components.split_writer``); ``unit.json``, written last, marks a
        folder complete (no directory rename: an object store has none). Returns the rows per unit."""
        folders = {unit: fs.join(store, "shards", keys[unit]) for unit in todo}
        items = []
        for unit in todo:
            fs.rmtree(folders[unit])  # what a run that died half-way left
            n = len(units[unit])
            for i, (path, fast) in enumerate(zip(units[unit], scans[unit]["fast"], strict=True)):
                shard = split_writer.shard_name(i, n)
                items.append((unit, path, fast, [fs.join(folders[unit], f"Split-{s}", shard) for s in split_names]))
        pipeline = self._make_beam_pipeline()
        _ = (
            pipeline
            | "UnitFiles" >> beam.Create(items)
            | "WriteShards" >> beam.Map(_write_file, columns, kinds, buckets)
        )
        result = pipeline.run()
        result.wait_until_finish()
        counters = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(_METRICS))["counters"]
        rows = {c.key.metric.name: int(c.committed if c.committed is not None else c.attempted) for c in counters}
        for unit in todo:
            unit_record = {"unit": unit, "files": scans[unit]["files"], "rows": rows.get(unit, 0)}
            fs.write_text(fs.join(folders[unit], "unit.json"), json.dumps(unit_record))
        return {unit: rows.get(unit, 0) for unit in todo}


def _rows(folder: str) -> int:
    return int(json.loads(fs.read_text(fs.join(folder, "unit.json")))["rows"])


def _prune(store: str, shard_keys: set[str], scan_keys: set[str]) -> None:
    """Drop store entries this run did not use: a month out of the window, an old version of a
    rewritten month. Artifacts hold their own copies."""
    shards = fs.join(store, "shards")
    for name in fs.listdir(shards) if fs.isdir(shards) else []:
        if name.rstrip("/") not in shard_keys:
            fs.rmtree(fs.join(shards, name.rstrip("/")))
    scans = fs.join(store, "scans")
    for name in fs.listdir(scans) if fs.isdir(scans) else []:
        if name.removesuffix(".json") not in scan_keys:
            fs.remove(fs.join(scans, name))
