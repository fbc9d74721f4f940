"""A file of ``predict_log`` records decoded in bulk: TensorFlow's ``decode_proto`` level by level, then numpy.

    records ──decode_proto──> log_metadata (version, time, request id)  ── time window ──┐
                        └───> predict_log ─> request: version label, inputs{key: TensorProto}
                                         └─> response: outputs{key: TensorProto}
    per input key: its TensorProtos decoded together ─> one column; rows = the output's first dimension

Parsing a ``PredictionLog`` in Python costs ~50 us and walking its maps more again; this path
decodes each level of every record of a file in one C++ call, and builds each column with
numpy (TF's compact form, one value repeated over the shape, expanded). It handles what the
server logs for ``:predict``; :func:`decode_predict_file` returns None for anything else
(classify/regress logs, ``scores`` outputs, an input whose dtype differs between requests),
and the caller falls back to the general per-record reader (:mod:`pipelines.monitoring.logs`).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["decode_predict_file"]

_OUTPUTS = ("probabilities", "predictions")  # "scores" (top class) is left to the general reader
_NUMERIC = {1: ("<f4", "float_val"), 2: ("<f8", "double_val"), 3: ("<i4", "int_val"), 9: ("<i8", "int64_val")}
_STRING = 7


@functools.cache
def _descriptors() -> bytes:
    """``bytes://`` + the FileDescriptorSet of ``prediction_log.proto`` and its imports (decode_proto's pool)."""
    from google.protobuf import descriptor_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    files = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def add(fd: Any) -> None:
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            add(dep)
        fd.CopyToProto(files.file.add())

    add(prediction_log_pb2.PredictionLog.DESCRIPTOR.file)
    return b"bytes://" + files.SerializeToString()


def _decode(values: Any, message: str, fields: dict[str, Any]) -> tuple[Any, list[Any]]:
    """(counts ``[n, fields]``, one ``[n, max count]`` array per field) of ``n`` serialized messages."""
    import tensorflow as tf

    sizes, out = tf.io.decode_proto(
        values, message, list(fields), list(fields.values()), descriptor_source=_descriptors()
    )
    return sizes.numpy(), [o.numpy() for o in out]


def _first(column: Any, default: Any) -> Any:
    """The single value of each row of a decoded singular field (the default where absent)."""
    import numpy as np

    return column[:, 0] if column.shape[1] else np.full(column.shape[0], default, dtype=column.dtype)


def _flat(matrix: Any, counts: Any) -> Any:
    """The values of a padded ``[n, max]`` field matrix, row after row (padding dropped)."""
    import numpy as np

    return matrix[np.arange(matrix.shape[1]) < counts[:, None]]


def _tensor_values(tensors: Any, rows: Any) -> Any | None:
    """The values of serialized TensorProtos, each expanded to its record's ``rows`` (None: mixed dtypes).

    Raises:
        ValueError: a tensor whose value count is neither its record's rows nor 1.
    """
    import numpy as np
    import tensorflow as tf

    fields = {"dtype": tf.int32, "tensor_content": tf.string, "string_val": tf.string}
    fields.update({name: tf.as_dtype(np.dtype(kind)) for kind, name in _NUMERIC.values()})
    sizes, out = _decode(tensors, "tensorflow.TensorProto", fields)
    decoded = dict(zip(fields, out, strict=True))
    counts = dict(zip(fields, sizes.T, strict=True))
    dtypes = _first(decoded["dtype"], 0)
    if not len(dtypes) or (dtypes != dtypes[0]).any():
        return None
    dtype = int(dtypes[0])
    if dtype == _STRING:
        values = np.array(
            [v.decode("utf-8", "replace") for v in _flat(decoded["string_val"], counts["string_val"])], dtype=object
        )
        n = counts["string_val"]
    elif dtype in _NUMERIC:
        kind, name = _NUMERIC[dtype]
        values, n = _flat(decoded[name], counts[name]), counts[name]
        if counts["tensor_content"].any():  # packed tensors (make_tensor_proto's), maybe beside unpacked ones
            blobs = _first(decoded["tensor_content"], b"")
            packed = counts["tensor_content"] > 0
            n = np.where(packed, np.array([len(b) for b in blobs]) // np.dtype(kind).itemsize, n)
            mixed = np.empty(int(n.sum()), dtype=kind)
            where = np.repeat(packed, n)
            mixed[where] = np.frombuffer(b"".join(blobs[packed]), dtype=kind)
            mixed[~where] = values
            values = mixed
        values = values.astype("f8" if kind[1] == "f" else "i8")
    else:
        raise ValueError(f"unsupported tensor dtype {dtype}")
    wrong = (n != rows) & (n != 1)
    if wrong.any():
        i = int(np.argmax(wrong))
        raise ValueError(f"a tensor of {n[i]} values beside {rows[i]} predictions")
    if (n != rows).any():  # TF's compact form: one value repeated over the shape
        values = np.repeat(values, np.repeat(np.where(n == rows, 1, rows), n))
    return values


def decode_predict_file(records: list[bytes], since: float | None, until: float | None) -> dict[str, Any] | None:
    """The columns (inputs, ``prediction``, request_id, index, version, label, time) of one file's
    records in ``[since, until)``, as numpy arrays of equal length; None when not every record is a
    ``predict_log`` this path handles.

    Raises:
        ValueError: a record without a ``probabilities``/``predictions`` output, or a tensor that
            does not fit its record's rows (the general reader raises the same).
    """
    import numpy as np
    import tensorflow as tf

    s, i64 = tf.string, tf.int64
    if not records:
        return {}
    sizes, (meta, predict) = _decode(records, "tensorflow.serving.PredictionLog", {"log_metadata": s, "predict_log": s})
    if not sizes[:, 1].all():
        return None
    _, (spec, stamp, origin) = _decode(
        _first(meta, b""),
        "tensorflow.serving.LogMetadata",
        {"model_spec": s, "timestamp_secs": i64, "request_origin": s},
    )
    times = _first(stamp, 0)
    keep = np.ones(len(times), dtype=bool)
    if since is not None:
        keep &= times >= since
    if until is not None:
        keep &= times < until
    if not keep.any():
        return {}
    times, spec, origin, predict = times[keep], _first(spec, b"")[keep], _first(origin, b"")[keep], predict[keep, 0]
    _, (version,) = _decode(spec, "tensorflow.serving.ModelSpec", {"version": s})
    _, (version,) = _decode(_first(version, b""), "google.protobuf.Int64Value", {"value": i64})
    _, (request, response) = _decode(predict, "tensorflow.serving.PredictLog", {"request": s, "response": s})
    in_sizes, (request_spec, inputs) = _decode(
        _first(request, b""), "tensorflow.serving.PredictRequest", {"model_spec": s, "inputs": s}
    )
    _, (label,) = _decode(_first(request_spec, b""), "tensorflow.serving.ModelSpec", {"version_label": s})
    out_sizes, (outputs,) = _decode(_first(response, b""), "tensorflow.serving.PredictResponse", {"outputs": s})
    out_record = np.repeat(np.arange(len(times)), out_sizes[:, 0])
    _, (out_keys, out_tensors) = _decode(
        _flat(outputs, out_sizes[:, 0]), "tensorflow.serving.PredictResponse.OutputsEntry", {"key": s, "value": s}
    )
    chosen = np.full(len(times), -1)
    for name in reversed(_OUTPUTS):  # the first of _OUTPUTS a record has wins
        hit = _first(out_keys, b"") == name.encode()
        chosen[out_record[hit]] = np.flatnonzero(hit)
    if (chosen < 0).any():
        if (_first(out_keys, b"") == b"scores").any():
            return None
        raise ValueError(f"no {'/'.join((*_OUTPUTS, 'scores'))} output in the response")
    picked = _first(out_tensors, b"")[chosen]
    _, (shape,) = _decode(picked, "tensorflow.TensorProto", {"tensor_shape": s})
    dim_sizes, (dims,) = _decode(_first(shape, b""), "tensorflow.TensorShapeProto", {"dim": s})
    _, (first_dim,) = _decode(_first(dims, b""), "tensorflow.TensorShapeProto.Dim", {"size": i64})
    rows = np.where(dim_sizes[:, 0] > 0, _first(first_dim, 1), 1)
    prediction = _tensor_values(picked, rows)
    if prediction is None:
        return None
    total, start = int(rows.sum()), np.cumsum(rows) - rows
    columns: dict[str, Any] = {}
    in_record = np.repeat(np.arange(len(times)), in_sizes[:, 1])
    _, (in_keys, in_tensors) = _decode(
        _flat(inputs, in_sizes[:, 1]), "tensorflow.serving.PredictRequest.InputsEntry", {"key": s, "value": s}
    )
    in_keys, in_tensors = _first(in_keys, b""), _first(in_tensors, b"")
    for key in dict.fromkeys(in_keys.tolist()):
        hit = in_keys == key
        records_with = in_record[hit]
        values = _tensor_values(in_tensors[hit], rows[records_with])
        if values is None:
            return None
        if len(records_with) < len(times):  # records without this input: None in their rows
            column = np.full(total, None, dtype=object)
            r = rows[records_with]
            column[np.repeat(start[records_with], r) + np.arange(r.sum()) - np.repeat(np.cumsum(r) - r, r)] = values
            values = column
        columns[key.decode()] = values
    labels = np.array([v.decode() or "-" for v in _first(label, b"")], dtype=object)
    return {
        "columns": columns,
        "prediction": prediction.astype("f8"),
        "request_id": np.repeat(np.array([v.decode() for v in origin], dtype=object), rows),
        "index": np.arange(total) - np.repeat(start, rows),
        "version": np.repeat(_first(version, 0), rows),
        "label": np.repeat(labels, rows),
        "time": np.repeat(times, rows),
    }
