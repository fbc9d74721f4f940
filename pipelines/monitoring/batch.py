"""Batch inference: CSV files scored by a served version as a Beam job (Beam's ``RunInference``).

    CSV files (local or gs://) ──read──> chunks of records ──parse (pyarrow)──> columns ──RunInference──> outputs
                                                     │                                    │
                                                     └──> bad rows (reason) <─────────────┘ (rows the model refuses)
    predictions-<shard>.csv|parquet: file, line + key columns + the signature's outputs
    bad_rows-<shard>.csv: file, line, reason, the raw line

Beam moves chunks of a few thousand rows, not rows (its per-element cost would dwarf the
model's); a chunk is parsed into columns by pyarrow (:mod:`pipelines.monitoring.chunks`, row
by row only when a row is bad). The model handler calls the version's ``serving_default``
signature on ``batch_size`` rows at a time (as the in-process floor does) with the raw columns;
a batch the model refuses is retried row by row so only the bad rows go to the side output.
Outputs are written column by column. Runs on the Beam runner the config's ``beam`` section names.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs
from pipelines.monitoring.chunks import Chunk, bad_row, parse_chunk, parse_row, read_chunks

__all__ = ["BatchResult", "csv_files", "parse_row", "run_batch", "signature_dtypes"]

BAD = "bad"
CHUNK_ROWS = 4096  # rows per Beam element (a whole number of signature batches)


@dataclass(frozen=True)
class BatchResult:
    out: str
    scored: int
    bad: int


def csv_files(path: str) -> list[str]:
    """The CSV file ``path``, or the ``*.csv`` files of the folder ``path``, sorted."""
    if fs.isdir(path):
        return sorted(fs.join(path, n) for n in fs.listdir(path) if n.endswith(".csv"))
    return [path] if fs.isfile(path) else []


def signature_dtypes(model_dir: str, signature: str = "serving_default") -> dict[str, str]:
    """``{input: dtype name}`` of a SavedModel signature, from saved_model.pb (the graph is not loaded)."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel.FromString(fs.read_bytes(fs.join(model_dir, "saved_model.pb")))
    for graph in proto.meta_graphs:
        if signature in graph.signature_def:
            return {k: tf.dtypes.as_dtype(v.dtype).name for k, v in graph.signature_def[signature].inputs.items()}
    return {}


class _Parse:
    """Beam DoFn body: a chunk of records -> a Chunk of its good rows; bad rows to the side output."""

    def __init__(self, dtypes: dict[str, str], keys: list[str]) -> None:
        self.dtypes, self.keys = dtypes, keys

    def __call__(self, element: tuple[list[str], str, list[int], list[str]]) -> Iterator[Any]:
        from apache_beam import pvalue

        chunk, bad = parse_chunk(element, self.dtypes, self.keys)
        if bad:
            yield pvalue.TaggedOutput(BAD, bad)
        if chunk is not None:
            yield chunk


def _handler(model_dir: str, dtypes: dict[str, str], batch_size: int) -> Any:
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult

    class SignatureHandler(ModelHandler):
        """Loads the SavedModel once per worker; calls ``serving_default`` on ``batch_size`` rows at a time."""

        def load_model(self) -> Any:
            import tensorflow as tf

            return tf.saved_model.load(fs.local_copy(model_dir) if fs.is_remote(model_dir) else model_dir)

        def run_inference(self, batch: Sequence[Chunk], model: Any, inference_args: Any = None) -> Iterable[Any]:
            signature = model.signatures["serving_default"]
            return [PredictionResult(chunk, _score(signature, chunk, dtypes, batch_size)) for chunk in batch]

        def batch_elements_kwargs(self) -> dict[str, int]:
            return {"min_batch_size": 1, "max_batch_size": 1}  # each element is already a chunk of rows

    return SignatureHandler()


def _score(signature: Any, chunk: Chunk, dtypes: dict[str, str], batch_size: int) -> dict[str, Any]:
    """``{"outputs": {name: array over the scored rows}, "ok": row mask, "errors": {row: reason}}``."""
    import numpy as np
    import tensorflow as tf

    parts: list[dict[str, Any]] = []
    ok = np.ones(len(chunk), dtype=bool)
    errors: dict[int, str] = {}
    for start in range(0, len(chunk), batch_size):
        rows = slice(start, start + batch_size)
        try:
            parts.append(_call(signature, {k: v[rows] for k, v in chunk.inputs.items()}, dtypes))
        except tf.errors.InvalidArgumentError:  # find the rows the model refuses, one by one
            for i in range(start, min(start + batch_size, len(chunk))):
                try:
                    parts.append(_call(signature, {k: v[i : i + 1] for k, v in chunk.inputs.items()}, dtypes))
                except tf.errors.InvalidArgumentError as exc:
                    from pipelines.serving.service import tf_error_message

                    ok[i] = False
                    errors[i] = " ".join(tf_error_message(exc.message).split("\n")[0].split())
    outputs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return {"outputs": outputs, "ok": ok, "errors": errors}


def _call(signature: Any, arrays: dict[str, Any], dtypes: dict[str, str]) -> dict[str, Any]:
    import tensorflow as tf

    tensors = {k: tf.constant(v, dtype=dtypes[k]) for k, v in arrays.items()}
    return {k: v.numpy() for k, v in signature(**tensors).items()}


def _split(result: Any) -> Iterator[Any]:
    """A scored chunk -> (column names, columns) of its scored rows, and the refused rows (side output)."""
    import numpy as np
    from apache_beam import pvalue

    chunk, scored = result.example, result.inference
    ok, errors = scored["ok"], scored["errors"]
    if errors:
        yield pvalue.TaggedOutput(
            BAD, [bad_row(chunk.file, chunk.lines[i], reason, chunk.text[i]) for i, reason in sorted(errors.items())]
        )
    if not ok.any():
        return
    keep = np.flatnonzero(ok)
    every = len(keep) == len(chunk)
    columns: dict[str, list[Any]] = {
        "file": [chunk.file] * len(keep),
        "line": chunk.lines if every else [chunk.lines[i] for i in keep],
    }
    for name, values in chunk.keys.items():
        columns.setdefault(name, values if every else [values[i] for i in keep])
    for name, value in sorted(scored["outputs"].items()):
        if value.ndim > 1:
            if value.dtype.kind in "SUO":
                continue  # multiclass `classes`: the same names on every row
            for i in range(value.shape[1]):
                columns[f"{name}_{i}"] = value[:, i].astype("f8").tolist()
        else:
            columns[name] = (value.astype("f8") if value.dtype.kind == "f" else value).tolist()
    yield list(columns), list(columns.values())


class _WriteShards:
    """Beam DoFn: each bundle's parts (rows as dicts, or (names, columns)) become one shard under ``out``."""

    def __init__(self, out: str, prefix: str, fmt: str) -> None:
        self.out, self.prefix, self.fmt = out, prefix, fmt

    def setup(self) -> None:
        self.parts: list[tuple[list[str], list[list[Any]]]] = []

    def start_bundle(self) -> None:
        self.parts = []

    def process(self, part: Any) -> Iterator[int]:
        if isinstance(part, list):  # bad rows: dicts with the same keys
            part = (list(part[0]), [[row[k] for row in part] for k in part[0]])
        self.parts.append(part)
        return iter(())

    def finish_bundle(self) -> None:
        if not self.parts:
            return
        names = self.parts[0][0]
        name = fs.join(self.out, f"{self.prefix}-{uuid.uuid4().hex[:12]}.{self.fmt}")
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            tables = [pa.table(dict(zip(n, cols, strict=True))) for n, cols in self.parts]
            buffer = io.BytesIO()
            pq.write_table(pa.concat_tables(tables, promote=True), buffer)
            fs.write_bytes(name, buffer.getvalue())
        else:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(names)
            for _, cols in self.parts:
                writer.writerows(zip(*cols, strict=True))
            fs.write_text(name, text.getvalue())
        self.parts = []


def run_batch(
    files: list[str],
    model_dir: str,
    out: str,
    *,
    keys: list[str] | None = None,
    fmt: str = "csv",
    batch_size: int = 256,
    beam_args: list[str] | None = None,
) -> BatchResult:
    """Score ``files`` with the SavedModel ``model_dir``; shards and bad rows under ``out``."""
    import apache_beam as beam
    from apache_beam.ml.inference.base import RunInference
    from apache_beam.options.pipeline_options import PipelineOptions

    dtypes = signature_dtypes(model_dir)
    if keys is None:  # every column the model does not take (the label included)
        with fs.open_file(files[0], newline="") as handle:
            keys = [c for c in next(csv.reader(handle), []) if c not in dtypes]
    fs.makedirs(out)
    parse, write_ok = _Parse(dtypes, keys), _WriteShards(out, "predictions", fmt)
    write_bad = _WriteShards(out, "bad_rows", "csv")
    with beam.Pipeline(options=PipelineOptions(beam_args or [])) as p:
        chunk_rows = max(1, CHUNK_ROWS // batch_size) * batch_size
        chunks = p | "Files" >> beam.Create(files) | "Read" >> beam.FlatMap(read_chunks, chunk_rows)
        parsed = chunks | "Parse" >> beam.FlatMap(parse).with_outputs(BAD, main="rows")
        scored = (
            parsed.rows
            | "RunInference" >> RunInference(_handler(model_dir, dtypes, batch_size))
            | "Split" >> beam.FlatMap(_split).with_outputs(BAD, main="ok")
        )
        _ = scored.ok | "WritePredictions" >> beam.ParDo(_beam_dofn(write_ok))
        _ = (parsed[BAD], scored[BAD]) | beam.Flatten() | "WriteBad" >> beam.ParDo(_beam_dofn(write_bad))
    scored_n = _count(out, "predictions", fmt)
    return BatchResult(out, scored_n, _count(out, "bad_rows", "csv"))


def _beam_dofn(body: _WriteShards) -> Any:
    import apache_beam as beam

    return type("WriteShards", (body.__class__, beam.DoFn), {})(body.out, body.prefix, body.fmt)


def _count(out: str, prefix: str, fmt: str) -> int:
    names = [n for n in fs.listdir(out) if n.startswith(prefix + "-") and n.endswith("." + fmt)]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(io.BytesIO(fs.read_bytes(fs.join(out, n)))).num_rows for n in names)
    return sum(max(0, fs.read_text(fs.join(out, n)).count("\n") - 1) for n in names)
