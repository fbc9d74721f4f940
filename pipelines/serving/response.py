"""Responses: output arrays -> TF Serving's response JSON (``predictions``, ``outputs``, ``results``).

Floats are written the way TF Serving writes them (6 significant digits unless that does not
round-trip, ``NaN``/``Infinity``); outputs named ``*_bytes`` as ``{"b64": ...}``. Pure numpy.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipelines.serving.codec_base import ApiError, shape_text

__all__ = ["classify_rows", "encode", "format_classify", "format_predict", "format_regress", "regress_values"]


class _Raw(str):
    """Text written into the JSON as is (numbers formatted like TF Serving)."""


def _float_text(value: float, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = f"{value:.6g}"
    if (np.float32(text) if single else float(text)) != (np.float32(value) if single else value):
        text = f"{value:.9g}" if single else f"{value:.17g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _float_texts(array: np.ndarray) -> list[str]:
    """:func:`_float_text` of every value of a 1-D float array: each format one C-level ``%`` over
    all values, the round-trip check vectorised."""
    single = array.dtype.itemsize <= 4
    values = array.tolist()
    if not values:
        return []
    if not np.isfinite(array).all():
        return [_float_text(v, single) for v in values]
    count = len(values)
    texts = (",".join(["%.6g"] * count) % tuple(values)).split(",")
    exact = array.astype(np.float32 if single else np.float64)
    redo = np.array(list(map(float, texts)), dtype=exact.dtype) != exact  # 6 digits do not round-trip
    if redo.any():
        long = (",".join(["%.9g" if single else "%.17g"] * count) % tuple(values)).split(",")
        texts = [b if r else t for t, b, r in zip(texts, long, redo.tolist(), strict=True)]
    return [t if "." in t or "e" in t else t + ".0" for t in texts]


def _leaves(array: np.ndarray, as_bytes: bool) -> list[Any]:
    kind = array.dtype.kind
    if kind == "f":
        return [_Raw(t) for t in _float_texts(array)]
    if kind == "O" or kind == "S":
        if as_bytes:
            return [{"b64": base64.b64encode(v).decode("ascii")} for v in array.tolist()]
        return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v) for v in array.tolist()]
    return array.tolist()


def _nest(array: Any, as_bytes: bool) -> Any:
    if isinstance(array, (bytes, str)):  # an element of an object (string) array
        array = np.array([array], dtype=object).reshape(())
    elif not isinstance(array, np.ndarray):  # a numpy scalar
        array = np.asarray(array)
    if array.ndim == 0:
        return _leaves(array.reshape(1), as_bytes)[0]
    if array.ndim == 1:
        return _leaves(array, as_bytes)
    return [_nest(sub, as_bytes) for sub in array]


def encode(obj: Any) -> str:
    """JSON text; :class:`_Raw` values are written verbatim."""
    if isinstance(obj, _Raw):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(encode(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


def format_predict(outputs: Mapping[str, np.ndarray], fmt: str) -> str:
    """``{"predictions": ...}`` (row) or ``{"outputs": ...}`` (columnar), as TF Serving writes them."""
    if not outputs:
        raise ApiError("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    as_bytes = {n: n.endswith("_bytes") for n in names}
    if fmt == "columnar":
        if len(names) == 1:
            return encode({"outputs": _nest(outputs[names[0]], as_bytes[names[0]])})
        return encode({"outputs": {n: _nest(outputs[n], as_bytes[n]) for n in names}})
    batch = None
    for n in names:
        if outputs[n].ndim == 0:
            raise ApiError(f"Tensor name: {n} has no shape information ")
        if batch is not None and outputs[n].shape[0] != batch:
            raise ApiError(f"Tensor name: {n} has inconsistent batch size: {outputs[n].shape[0]} expecting: {batch}")
        batch = outputs[n].shape[0]
    if len(names) == 1:
        only = outputs[names[0]]
        if only.ndim == 1 and only.dtype.kind == "f":  # the common case, one float per instance
            return '{"predictions": [' + ", ".join(_float_texts(only)) + "]}"
        return encode({"predictions": [_nest(item, as_bytes[names[0]]) for item in only]})
    rows = [{n: _nest(outputs[n][i], as_bytes[n]) for n in names} for i in range(batch or 0)]
    return encode({"predictions": rows})


def classify_rows(outputs: Mapping[str, np.ndarray], signature: str) -> list[list[tuple[str, float]]]:
    """``[[(label, score), ...], ...]`` per example, as TF Serving reads a classify signature's outputs.

    A ``scores`` output (with ``classes`` if present) is used as TF Serving does; a single
    ``[batch]`` probability output is a binary classifier: ``[("0", 1 - p), ("1", p)]``.
    """
    if "scores" in outputs:
        scores = np.asarray(outputs["scores"], dtype=np.float32)
        classes = outputs.get("classes")
    elif len(outputs) == 1:
        (scores,) = [np.asarray(v, dtype=np.float32) for v in outputs.values()]
        classes = None
        if scores.ndim == 1:
            scores = np.stack([1.0 - scores, scores], axis=1)
            classes = np.array([[b"0", b"1"]] * len(scores), dtype=object)
    else:
        raise ApiError(
            f"signature '{signature}' cannot classify: it needs a 'scores' output or exactly one output "
            f"(it returns {', '.join(sorted(outputs))})"
        )
    if scores.ndim != 2:
        raise ApiError(f"Expected Tensor shape: [batch_size num_classes] but got {shape_text(scores.shape)}")
    rows = []
    for i, row in enumerate(scores):
        labels = [b""] * len(row) if classes is None else list(np.asarray(classes)[i])
        rows.append(
            [
                (lb.decode("utf-8", "replace") if isinstance(lb, bytes) else str(lb), s)
                for lb, s in zip(labels, row.tolist(), strict=False)
            ]
        )
    return rows


def format_classify(outputs: Mapping[str, np.ndarray], signature: str) -> str:
    """``{"results": [[[label, score], ...], ...]}`` (see :func:`classify_rows`)."""
    rows = classify_rows(outputs, signature)
    return encode({"results": [[[lb, _Raw(_float_text(s, True))] for lb, s in row] for row in rows]})


def regress_values(outputs: Mapping[str, np.ndarray], signature: str) -> np.ndarray:
    """The ``[batch]`` float values of the ``outputs`` output, or of the only output."""
    if "outputs" in outputs:
        values = outputs["outputs"]
    elif len(outputs) == 1:
        (values,) = outputs.values()
    else:
        raise ApiError(
            f"signature '{signature}' cannot regress: it needs an 'outputs' output or exactly one output "
            f"(it returns {', '.join(sorted(outputs))})"
        )
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.dtype.kind != "f":
        raise ApiError(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            f"{shape_text(values.shape)}"
        )
    return values


def format_regress(outputs: Mapping[str, np.ndarray], signature: str) -> str:
    """``{"results": [value, ...]}`` (see :func:`regress_values`)."""
    values = regress_values(outputs, signature)
    return encode({"results": [_Raw(_float_text(v, values.dtype.itemsize <= 4)) for v in values.tolist()]})
