"""Predict rows, the common case in one pass per input: every instance an object holding exactly the
signature's inputs, one plain JSON scalar each. Type checks are C-level passes, range checks vectorised;
anything else is None, and :mod:`pipelines.serving.request_predict` reads it the general way (and words
its errors as TF Serving does). Pure numpy.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipelines.serving.codec_base import FLOAT32_MAX, InputSpec

__all__ = ["INT_RANGES", "fast_column", "fast_instances"]

INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (0, 2**8 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


def fast_column(values: list[Any] | tuple[Any, ...], dtype: str) -> np.ndarray | None:
    """One input's column when every value is a plain JSON scalar :func:`_convert` accepts, else None.
    The type check is one C-level pass (``set(map(type, ...))``), the range checks vectorised."""
    types = set(map(type, values))
    if dtype == "string":
        if types != {str}:
            return None
        joined = "\x00".join(values)  # one encode for the column, unless a value holds the separator
        encoded = joined.encode("utf-8").split(b"\x00") if joined.count("\x00") == len(values) - 1 else None
        array = np.empty(len(values), dtype=object)
        array[:] = encoded if encoded is not None else [v.encode("utf-8") for v in values]
        return array
    if dtype in ("float32", "float64", "float16"):
        if not types <= {float, int}:
            return None
        if int in types:
            limit = 2**24 - 1 if dtype != "float64" else 2**53 - 1
            if any(type(v) is int and not -limit <= v <= limit for v in values):
                return None
        wide = np.array(values, dtype=np.float64)
        if dtype != "float64":
            finite = np.abs(wide[np.isfinite(wide)])
            if finite.size and finite.max() > FLOAT32_MAX:
                return None
            return wide.astype(dtype)
        return wide
    if dtype in INT_RANGES:
        if types != {int}:
            return None
        lo, hi = INT_RANGES[dtype]
        if dtype == "uint64":  # beyond int64: Python checks its range
            return np.array(values, dtype=np.uint64) if lo <= min(values) and max(values) <= hi else None
        try:
            array = np.array(values, dtype=np.int64)
        except OverflowError:
            return None
        if array.min() < lo or array.max() > hi:
            return None
        return array.astype(dtype)
    return None


def fast_instances(instances: list[Any], specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray] | None:
    """The common case, column by column: objects holding exactly the inputs, one plain scalar each.
    None for anything else, which the full path then reads (and words any error of)."""
    width = len(specs)
    if set(map(type, instances)) != {dict} or set(map(len, instances)) != {width}:
        return None
    names = list(specs)
    try:
        rows = list(map(operator.itemgetter(*names), instances))
    except KeyError:
        return None
    columns_ = list(zip(*rows, strict=True)) if width > 1 else [rows]
    columns = {}
    for name, values in zip(names, columns_, strict=True):
        column = fast_column(values, specs[name].dtype)
        if column is None:
            return None
        columns[name] = column
    return columns
