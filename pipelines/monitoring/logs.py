"""The request log as a table: one row per served instance, with who answered, when, and the prediction.

Reads the TFRecord files of TF Serving ``PredictionLog`` records that the server writes
(:mod:`pipelines.serving.request_log`) file by file, so a corrupt or truncated file is
reported and skipped while every other file is read. A file of ``predict_log`` records is
decoded in bulk (:mod:`pipelines.monitoring.bulk`: ~6x faster than parsing each record in
Python); any other file record by record, tensors straight from their ``TensorProto`` fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from pipelines.serving.request_log import read_records

__all__ = ["PREDICTION", "LogTable", "read_log_table"]

PREDICTION = "prediction"  # the column holding the served score (binary probability, regression value, top class)
_PREFIX, _SUFFIX = "requests-", ".tfrecord"
_META = ("request_id", "index", "version", "label", "time")
# TensorProto dtype -> (numpy dtype of tensor_content, repeated field holding the values otherwise)
_DTYPES = {1: ("<f4", "float_val"), 2: ("<f8", "double_val"), 3: ("<i4", "int_val"), 9: ("<i8", "int64_val")}
_OUTPUTS = ("probabilities", "predictions", "scores")


@dataclass
class LogTable:
    """``frame``: pandas DataFrame (features, ``prediction``, request_id, index, version, label, time);
    ``problems``: one line per file skipped; ``files``: how many were read."""

    frame: Any
    problems: list[str] = field(default_factory=list)
    files: int = 0


def _array(tensor: Any) -> Any:
    import numpy as np

    n = 1
    for d in tensor.tensor_shape.dim:
        n *= d.size
    if tensor.dtype == 7:  # DT_STRING
        values: Any = np.array([v.decode("utf-8", "replace") for v in tensor.string_val], dtype=object)
    elif tensor.dtype in _DTYPES:
        dtype, name = _DTYPES[tensor.dtype]
        if tensor.tensor_content:
            values = np.frombuffer(tensor.tensor_content, dtype=dtype)
        else:
            values = np.asarray(getattr(tensor, name), dtype=dtype)
    else:
        raise ValueError(f"unsupported tensor dtype {tensor.dtype}")
    if len(values) == 1 and n > 1:  # TF's compact form: one value repeated over the shape
        values = np.repeat(values, n)
    return values


def _example_columns(examples: Any) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {}
    for i, ex in enumerate(examples):
        for name, feat in ex.features.feature.items():
            kind = feat.WhichOneof("kind")
            values = list(getattr(feat, kind).value) if kind else []
            value = values[0] if values else None
            cols.setdefault(name, [None] * i).append(value.decode() if isinstance(value, bytes) else value)
        for col in cols.values():
            col.extend([None] * (i + 1 - len(col)))
    return cols


def _decode(log: Any) -> tuple[dict[str, Any], Any, str]:
    """(input columns, prediction column, request's version label) of one PredictionLog."""
    import numpy as np

    kind = log.WhichOneof("log_type")
    if kind == "predict_log":
        request = log.predict_log.request
        inputs = {k: _array(v).reshape(-1) for k, v in request.inputs.items()}
        outputs = log.predict_log.response.outputs
        name = next((o for o in _OUTPUTS if o in outputs), None)
        if name is None:
            raise ValueError(f"no {'/'.join(_OUTPUTS)} output in the response")
        pred = _array(outputs[name])
        rows = len(next(iter(inputs.values()))) if inputs else len(pred)
        if name == "scores":
            pred = pred.reshape(rows, -1).argmax(axis=1).astype("f8")
        return inputs, pred.reshape(-1).astype("f8"), request.model_spec.version_label
    sub = getattr(log, kind)
    request = sub.request
    columns = _example_columns(request.input.example_list.examples)
    if kind == "regress_log":
        pred = np.array([r.value for r in sub.response.result.regressions], dtype="f8")
    else:
        pred = np.array([max(c.classes, key=lambda k: k.score).score for c in sub.response.result.classifications])
    return {k: np.array(v, dtype=object) for k, v in columns.items()}, pred, request.model_spec.version_label


def _files(path: str) -> list[str]:
    if not fs.isdir(path):
        return []
    return sorted(fs.join(path, n) for n in fs.listdir(path) if n.startswith(_PREFIX) and n.endswith(_SUFFIX))


def _values(tensor: Any, n: int) -> Any:
    """A tensor's values as a list of ``n`` Python values (no numpy per tensor: a log holds millions)."""
    dtype = tensor.dtype
    if dtype == 7:  # DT_STRING
        values: Any = [v.decode("utf-8", "replace") for v in tensor.string_val]
    elif dtype in _DTYPES:
        kind, name = _DTYPES[dtype]
        if tensor.tensor_content:
            import numpy as np

            values = np.frombuffer(tensor.tensor_content, dtype=kind).tolist()
        else:
            values = getattr(tensor, name)
    else:
        raise ValueError(f"unsupported tensor dtype {dtype}")
    if len(values) == n:
        return values
    if len(values) == 1:  # TF's compact form: one value repeated over the shape
        return list(values) * n
    raise ValueError(f"a tensor of {len(values)} values beside {n} predictions")


def _general(records: list[bytes], since: float | None, until: float | None) -> dict[str, Any]:
    """One file's records in ``[since, until)`` as columns, record by record (every kind of log)."""
    from tensorflow_serving.apis import prediction_log_pb2

    parse = prediction_log_pb2.PredictionLog.FromString
    cols: dict[str, list[Any]] = {}
    metas: dict[str, list[Any]] = {k: [] for k in (PREDICTION, *_META)}
    total = 0
    for record in records:
        log = parse(record)
        meta = log.log_metadata
        t = meta.timestamp_secs
        if (since is not None and t < since) or (until is not None and t >= until):
            continue
        if log.WhichOneof("log_type") == "predict_log":
            request = log.predict_log.request
            outputs = log.predict_log.response.outputs
            name = next((o for o in _OUTPUTS if o in outputs), None)
            if name is None:
                raise ValueError(f"no {'/'.join(_OUTPUTS)} output in the response")
            if name == "scores":
                inputs, pred, label = _decode(log)
                pred, n = pred.tolist(), len(pred)
            else:
                dims = outputs[name].tensor_shape.dim
                n = dims[0].size if dims else 1
                pred = _values(outputs[name], n)
            label = request.model_spec.version_label
            for key, tensor in request.inputs.items():
                col = cols.get(key)
                if col is None:
                    col = cols[key] = [None] * total
                col.extend(_values(tensor, n))
        else:
            inputs, array, label = _decode(log)
            pred, n = array.tolist(), len(array)
            for key, values in inputs.items():
                cols.setdefault(key, [None] * total).extend(values.tolist())
        total += n
        for col in cols.values():
            if len(col) < total:
                col.extend([None] * (total - len(col)))
        metas[PREDICTION].extend(pred)
        metas["request_id"].extend([meta.request_origin] * n)
        metas["index"].extend(range(n))
        metas["version"].extend([meta.model_spec.version.value] * n)
        metas["label"].extend([label or "-"] * n)
        metas["time"].extend([t] * n)
    return {"columns": cols, **metas} if total else {}


def read_log_table(path: str, since: float | None = None, until: float | None = None) -> LogTable:
    """Every logged instance in ``[since, until)`` (epoch seconds) of the request log folder ``path``.

    A file that is not a whole TFRecord file of PredictionLogs is skipped and named in ``problems``.
    Files of ``predict_log`` records are decoded in bulk (:mod:`pipelines.monitoring.bulk`), others
    record by record.
    """
    import numpy as np
    import pandas as pd

    from pipelines.monitoring.bulk import decode_predict_file

    parts: list[dict[str, Any]] = []
    problems: list[str] = []
    files = _files(path)
    for file in files:
        try:
            records = list(read_records(fs.read_bytes(file)))
            part = decode_predict_file(records, since, until)
            if part is None:
                part = _general(records, since, until)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported and skipped, never fatal
            problems.append(f"{file}: {exc}; file skipped")
            continue
        if part:
            parts.append(part)
    names = list(dict.fromkeys(k for part in parts for k in part["columns"]))
    data: dict[str, Any] = {}
    for name in names:
        pieces = [_column(part["columns"].get(name), len(part[PREDICTION])) for part in parts]
        data[name] = _join(pieces)
    for name, dtype in ((PREDICTION, "f8"), ("request_id", object), ("index", "i8"), ("version", "i8"),
                        ("label", object), ("time", "i8")):  # fmt: skip
        data[name] = (
            np.concatenate([np.asarray(part[name], dtype=dtype) for part in parts])
            if parts
            else (np.array([], dtype=dtype))
        )
    return LogTable(pd.DataFrame(data), problems, len(files))


def _column(values: Any, n: int) -> Any:
    """A file's column as a numpy array (strings and gaps as objects); all None when the file lacks it."""
    import numpy as np

    if values is None:
        return np.full(n, None, dtype=object)
    if isinstance(values, np.ndarray):
        return values
    return np.array(values, dtype=object) if _is_text(values) else np.array(values)


def _join(pieces: list[Any]) -> Any:
    """Files' pieces of one column: numbers stay numbers unless some file has text or gaps."""
    import numpy as np

    if all(p.dtype != object for p in pieces):
        return np.concatenate(pieces)
    return np.concatenate([p.astype(object) for p in pieces])


def _is_text(values: list[Any]) -> bool:
    """Strings, or a column some records lack (None), stay Python objects; numbers become numpy numbers."""
    return any(isinstance(v, str) for v in values[:100]) or None in values
