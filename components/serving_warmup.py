"""Warm-up records: the requests TF Serving replays before it serves a version.

``<version>/assets.extra/tf_serving_warmup_requests`` is a TFRecord file of
``PredictionLog`` protos (``predict_log.request``). :func:`warmup_records` builds its bytes,
:func:`write_warmup_requests` writes them through :mod:`components.filesystem`, and
:func:`read_warmup_requests` reads them back (the built-in server replays them).

Example:
    >>> data, count = warmup_records("ad_click", rows, dtypes={"age": "int64"}, batch_size=1)
    >>> publish_version(model_dir, "serving", "ad_click", extra_files={WARMUP_FILE: data})
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from components import filesystem as fs
from components.serving_paths import LayoutError

__all__ = ["read_warmup_requests", "warmup_records", "write_warmup_requests"]

_HEADER = struct.Struct("<QI")  # TFRecord: uint64 length, uint32 masked CRC of the length
_FOOTER = 4  # uint32 masked CRC of the data


def warmup_records(
    model_name: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    dtypes: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    signature_name: str = "serving_default",
) -> tuple[bytes, int]:
    """The warm-up file's content: ``(TFRecord bytes, number of requests)``.

    Each request holds one ``[batch]`` tensor per raw column.

    Args:
        model_name: ``model_spec.name`` of the requests.
        rows: raw rows, ``{column: value}``; every row has the same columns.
        dtypes: ``{column: TF dtype name}`` (e.g. the signature's, ``"float32"``); default from
            the Python values (float -> float32, int -> int64, str/bytes -> string).
        batch_size: rows per request; default all rows in one request.
        signature_name: the signature the requests call.
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    if not rows:
        raise LayoutError("no rows to write as warm-up requests")
    columns = list(rows[0])
    batch = batch_size or len(rows)
    if batch < 1:
        raise LayoutError(f"batch_size must be at least 1, got {batch_size}")

    def dtype_of(column: str) -> str:
        if dtypes and column in dtypes:
            return dtypes[column]
        value = rows[0][column]
        if isinstance(value, (str, bytes)):
            return "string"
        return "int64" if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else "float32"

    kinds = {c: dtype_of(c) for c in columns}
    written = 0
    # TFRecordWriter writes only to a file: a local scratch file, read back as bytes.
    with tempfile.TemporaryDirectory(prefix="warmup-") as scratch:
        scratch_file = os.path.join(scratch, "records")
        with tf.io.TFRecordWriter(scratch_file) as writer:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                request = predict_pb2.PredictRequest(
                    model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
                )
                for column in columns:
                    values = [r[column] for r in chunk]
                    if kinds[column] == "string":
                        values = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
                        array = np.array(values, dtype=object)
                    else:
                        array = np.array(values, dtype=kinds[column])
                    request.inputs[column].CopyFrom(tf.make_tensor_proto(array, dtype=kinds[column]))
                log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
                writer.write(log.SerializeToString())
                written += 1
        data = fs.read_bytes(scratch_file)
    return data, written


def write_warmup_requests(
    path: str | os.PathLike[str],
    model_name: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    dtypes: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    signature_name: str = "serving_default",
) -> int:
    """Write TF Serving warm-up requests (see :func:`warmup_records`) to ``path`` atomically.

    Returns:
        the number of requests written.
    """
    data, written = warmup_records(
        model_name, rows, dtypes=dtypes, batch_size=batch_size, signature_name=signature_name
    )
    fs.write_bytes(os.fspath(path), data)
    return written


def read_warmup_requests(path: str | os.PathLike[str], limit: int) -> list[Any]:
    """The first ``limit`` ``PredictionLog`` protos of a warm-up file.

    The TFRecord framing is read here (the CRCs are not checked: a damaged record fails to
    parse or to run, and the version then fails to load, as in TF Serving).

    Raises:
        LayoutError: the file is not a TFRecord file (truncated or another format).
    """
    from tensorflow_serving.apis import prediction_log_pb2

    path = os.fspath(path)
    data = fs.read_bytes(path)
    logs: list[Any] = []
    offset = 0
    while offset < len(data) and len(logs) < limit:
        if offset + _HEADER.size > len(data):
            raise LayoutError(f"{path}: truncated TFRecord header at byte {offset}")
        length, _ = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        if start + length + _FOOTER > len(data):
            raise LayoutError(f"{path}: truncated TFRecord of {length} bytes at byte {offset}")
        logs.append(prediction_log_pb2.PredictionLog.FromString(data[start : start + length]))
        offset = start + length + _FOOTER
    return logs
