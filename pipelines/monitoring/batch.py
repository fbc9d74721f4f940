"""Batch inference: CSV files scored by a served version as a Beam job (Beam's ``RunInference``).

    CSV files (local or gs://) ──read──> chunks of lines ──parse──> typed rows ──RunInference──> outputs
                                                   │                                   │
                                                   └──> bad rows (reason) <────────────┘ (a row the model refuses)
    predictions-<shard>.csv|parquet: key columns + file, line + the signature's outputs
    bad_rows-<shard>.csv: file, line, reason, the raw line

The model handler calls the version's ``serving_default`` signature on batches (``batch_size``
rows, as the in-process floor does); a batch the model refuses is retried row by row so only
the bad rows go to the side output. Runs on the Beam runner the config's ``beam`` section names.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs

__all__ = ["BatchResult", "csv_files", "parse_row", "run_batch", "signature_dtypes"]

BAD = "bad"
_NUMERIC = {"float32": "f4", "float64": "f8", "int64": "i8", "int32": "i4"}


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


def parse_row(header: Sequence[str], cells: Sequence[str], dtypes: dict[str, str]) -> dict[str, Any]:
    """One CSV line as the signature's typed values.

    Raises:
        ValueError: wrong number of cells, or a cell that is not its column's type (the message names it).
    """
    if len(cells) != len(header):
        raise ValueError(f"{len(cells)} cells, the header has {len(header)}")
    row = dict(zip(header, cells, strict=True))
    out: dict[str, Any] = {}
    for name, dtype in dtypes.items():
        if name not in row:
            raise ValueError(f"no column {name!r}")
        cell = row[name].strip()
        if dtype == "string":
            out[name] = cell
        elif dtype.startswith("float"):
            try:
                out[name] = float(cell) if cell else float("nan")  # NaN: the model's "missing"
            except ValueError as exc:
                raise ValueError(f"{name}: {cell!r} is not a number") from exc
        else:
            try:
                out[name] = int(cell)
            except ValueError as exc:
                raise ValueError(f"{name}: {cell!r} is not an integer") from exc
    return out


def _chunks(file: str, size: int) -> Iterator[tuple[list[str], str, list[tuple[int, list[str]]]]]:
    """One CSV file as (header, file, up to ``size`` (line, cells) pairs): streamed, never all in memory.

    Beam moves chunks, not rows: its per-element cost would otherwise dwarf the model's."""
    with fs.open_file(file, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        chunk: list[tuple[int, list[str]]] = []
        for cells in reader:
            chunk.append((reader.line_num, cells))
            if len(chunk) >= size:
                yield header, file, chunk
                chunk = []
        if chunk:
            yield header, file, chunk


def _bad(file: str, line: int, reason: str, cells: Sequence[str]) -> dict[str, Any]:
    return {"file": file, "line": line, "reason": reason, "row": ",".join(cells)}


class _Parse:
    """Beam DoFn body: a chunk of lines -> (key rows, typed rows, raw cells); bad lines to the side output."""

    def __init__(self, dtypes: dict[str, str], keys: list[str]) -> None:
        self.dtypes, self.keys = dtypes, keys

    def __call__(self, element: tuple[list[str], str, list[tuple[int, list[str]]]]) -> Iterator[Any]:
        from apache_beam import pvalue

        header, file, chunk = element
        where = [header.index(k) if k in header else None for k in self.keys]
        keys, rows, bad = [], [], []
        for line, cells in chunk:
            try:
                rows.append(parse_row(header, cells, self.dtypes))
            except ValueError as exc:
                bad.append(_bad(file, line, str(exc), cells))
                continue
            key = {"file": file, "line": line}
            key.update((k, cells[w] if w is not None else "") for k, w in zip(self.keys, where, strict=True))
            keys.append((key, cells))
        if bad:
            yield pvalue.TaggedOutput(BAD, bad)
        if rows:
            yield keys, rows


def _handler(model_dir: str, dtypes: dict[str, str]) -> Any:
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult

    class SignatureHandler(ModelHandler):
        """Loads the SavedModel once per worker; calls ``serving_default`` once per chunk of rows."""

        def load_model(self) -> Any:
            import tensorflow as tf

            return tf.saved_model.load(fs.local_copy(model_dir) if fs.is_remote(model_dir) else model_dir)

        def run_inference(self, batch: Sequence[Any], model: Any, inference_args: Any = None) -> Iterable[Any]:
            import tensorflow as tf

            signature = model.signatures["serving_default"]
            results = []
            for keys, rows in batch:
                try:
                    outputs = _call(signature, rows, dtypes)
                    per_row: list[Any] = [{k: v[i] for k, v in outputs.items()} for i in range(len(rows))]
                except tf.errors.InvalidArgumentError:  # find the rows the model refuses, one by one
                    per_row = [_one(signature, row) for row in rows]
                results.append(PredictionResult(keys, per_row))
            return results

        def batch_elements_kwargs(self) -> dict[str, int]:
            return {"min_batch_size": 1, "max_batch_size": 1}  # each element is already a batch

    def _one(signature: Any, row: dict[str, Any]) -> dict[str, Any]:
        import tensorflow as tf

        try:
            return {k: v[0] for k, v in _call(signature, [row], dtypes).items()}
        except tf.errors.InvalidArgumentError as exc:
            from pipelines.serving.service import tf_error_message

            return {"error": " ".join(tf_error_message(exc.message).split("\n")[0].split())}

    return SignatureHandler()


def _call(signature: Any, rows: list[dict[str, Any]], dtypes: dict[str, str]) -> dict[str, Any]:
    import numpy as np

    arrays = {
        name: np.array([r[name] for r in rows], dtype=object if dtype == "string" else _NUMERIC.get(dtype, dtype))
        for name, dtype in dtypes.items()
    }
    return {k: v.numpy() for k, v in signature(**{k: _tensor(v, dtypes[k]) for k, v in arrays.items()}).items()}


def _tensor(values: Any, dtype: str) -> Any:
    import tensorflow as tf

    return tf.constant(values.astype(str).tolist() if dtype == "string" else values, dtype=dtype)


def _split(result: Any) -> Iterator[Any]:
    """A scored chunk -> one list of output rows, and one list of rows the model refused (side output)."""
    from apache_beam import pvalue

    ok, bad = [], []
    for (keys, cells), inference in zip(result.example, result.inference, strict=True):
        if "error" in inference:
            bad.append(_bad(keys["file"], keys["line"], inference["error"], cells))
            continue
        out = dict(keys)
        for name, value in sorted(inference.items()):
            if getattr(value, "ndim", 0):
                if value.dtype.kind in "SUO":
                    continue  # multiclass `classes`: the same names on every row
                out.update({f"{name}_{i}": float(v) for i, v in enumerate(value)})
            else:
                out[name] = value.item() if hasattr(value, "item") else value
        ok.append(out)
    if bad:
        yield pvalue.TaggedOutput(BAD, bad)
    if ok:
        yield ok


class _WriteShards:
    """Beam DoFn: each bundle's records become one shard file under ``out`` (through the filesystem seam)."""

    def __init__(self, out: str, prefix: str, fmt: str) -> None:
        self.out, self.prefix, self.fmt = out, prefix, fmt

    def setup(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def start_bundle(self) -> None:
        self.rows = []

    def process(self, rows: list[dict[str, Any]]) -> Iterator[int]:
        self.rows.extend(rows)
        return iter(())

    def finish_bundle(self) -> None:
        if not self.rows:
            return
        name = fs.join(self.out, f"{self.prefix}-{uuid.uuid4().hex[:12]}.{self.fmt}")
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(self.rows), buffer)
            fs.write_bytes(name, buffer.getvalue())
        else:
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(self.rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.rows)
            fs.write_text(name, text.getvalue())
        self.rows = []


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
        chunks = p | "Files" >> beam.Create(files) | "Read" >> beam.FlatMap(_chunks, batch_size)
        parsed = chunks | "Parse" >> beam.FlatMap(parse).with_outputs(BAD, main="rows")
        scored = (
            parsed.rows
            | "RunInference" >> RunInference(_handler(model_dir, dtypes))
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
