"""What every codec module shares: ``ApiError``, ``InputSpec``, the missing-value rule and JSON-value helpers.

Messages follow TF Serving's (``tensorflow_serving/util/json_tensor.cc``) word for word.

Missing values: the trainer's ``serving_default`` takes NaN (float inputs; an optional
integer column is served as float64 for this) or ``""`` (string inputs) as "missing", as
in a CSV cell. Beside those, a JSON ``null`` or an absent key means missing for an input
that may be missing (:func:`missing_json`): a ``[batch]`` input of a float or string type
whose :attr:`InputSpec.may_be_missing` is set. Any other input refuses it with a message
naming the input.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FLOAT32_MAX",
    "ApiError",
    "InputSpec",
    "b64decode",
    "format_error",
    "is_b64",
    "json_type",
    "missing_json",
    "shape_text",
    "show",
]

FLOAT32_MAX = float(np.finfo(np.float32).max)


class ApiError(Exception):
    """A request TF Serving would refuse: ``status`` is the HTTP code, ``message`` the ``error`` text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class InputSpec:
    """One signature input: its TF dtype name (``float32``, ``string``...) and shape (None = unknown).

    ``may_be_missing``: False when the model says the column is required. A SavedModel does
    not say so today, so it stays True and only the dtype decides (:func:`missing_json`).
    """

    dtype: str
    shape: tuple[int | None, ...] | None
    may_be_missing: bool = True


# The JSON value the signature takes as "missing", by input dtype (NaN is accepted JSON here, as in TF Serving).
_MISSING_JSON: dict[str, float | str] = {
    "float16": float("nan"),
    "float32": float("nan"),
    "float64": float("nan"),
    "string": "",
}


def missing_json(name: str, spec: InputSpec) -> float | str:
    """The JSON value meaning "missing" for input ``name`` (NaN or ``""``), for a ``null`` or an absent key.

    Raises:
        ApiError: 400, the input may not be missing; the message names it and says why.
    """
    value = _MISSING_JSON.get(spec.dtype)
    if not spec.may_be_missing:
        why = "the model requires it"
    elif spec.shape is None or len(spec.shape) != 1:
        why = "only an input with one value per instance (shape [?]) can be missing"
    elif value is None:
        why = f'{spec.dtype} inputs have no missing value (only float inputs take NaN and string inputs take "")'
    else:
        return value
    raise ApiError(f"input '{name}' may not be missing (null or absent): {why}")


def json_type(val: Any) -> str:
    """The JSON type name TF Serving's messages use (``Null``, ``True``, ``Number``...)."""
    if val is None:
        return "Null"
    if val is True:
        return "True"
    if val is False:
        return "False"
    if isinstance(val, dict):
        return "Object"
    if isinstance(val, list):
        return "Array"
    if isinstance(val, str):
        return "String"
    return "Number"


def show(val: Any) -> str:
    """A JSON value as compact text, for messages."""
    return json.dumps(val, ensure_ascii=False)


def is_b64(val: Any) -> bool:
    """True for ``{"b64": "..."}``, a binary string."""
    return isinstance(val, dict) and len(val) == 1 and isinstance(val.get("b64"), str)


def b64decode(val: Any) -> bytes:
    """The bytes of a ``{"b64": ...}`` value."""
    if not is_b64(val):
        raise ApiError(f"JSON Value: {show(val)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(val["b64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("Unable to base64 decode") from exc


def format_error(doc: Any, *parts: str) -> ApiError:
    """``JSON Value: <doc> <parts>``: TF Serving's message for a malformed document."""
    return ApiError(f"JSON Value: {show(doc)} " + "".join(parts))


def shape_text(shape: Sequence[int]) -> str:
    """A shape as TF Serving writes it: ``[2,3]``."""
    return "[" + ",".join(str(d) for d in shape) + "]"
