"""Predict requests: TF Serving's request JSON (``instances`` rows or ``inputs`` columns) -> arrays.

Follows ``FillPredictRequestFromJson`` in ``tensorflow_serving/util/json_tensor.cc``:
``{"b64": ...}`` binary strings, nested lists as dense tensors, and its error messages.
One addition: ``null`` or an absent key is a missing value for an input that may be missing
(NaN or ``""``, see :func:`pipelines.serving.codec_base.missing_json`). Pure numpy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipelines.serving.codec_base import (
    FLOAT32_MAX,
    ApiError,
    InputSpec,
    b64decode,
    format_error,
    is_b64,
    json_type,
    missing_json,
    shape_text,
    show,
)
from pipelines.serving.request_rows import INT_RANGES as _INT_RANGES
from pipelines.serving.request_rows import fast_instances as _fast_instances

__all__ = ["parse_json", "parse_predict", "signature_name"]

# DataTypeString() names, which TF Serving's messages use.
_TF_TYPE_NAMES = {
    "float32": "float",
    "float64": "double",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint32": "uint32",
    "uint64": "uint64",
    "string": "string",
    "bool": "bool",
    "float16": "half",
}


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (``NaN``/``Infinity`` accepted, as TF Serving does)."""
    try:  # orjson: about 10x faster; what it refuses (NaN, big integers, bad input) json words as before
        doc = _orjson_loads(body)
    except ValueError:
        doc = None
    if type(doc) is dict:
        return doc
    if not body.strip():
        raise ApiError("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise ApiError(f"JSON Parse error: Invalid encoding in string. at offset: {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(f"JSON Parse error: {exc.msg} at offset: {exc.pos}") from exc
    if not isinstance(doc, dict):
        raise format_error(doc, "Is not object")
    return doc


def _orjson_loads(body: bytes) -> Any:
    if not _ORJSON:
        try:
            import orjson

            _ORJSON.append(orjson.loads)
        except ImportError:  # not installed: json alone
            _ORJSON.append(json.loads)
    return _ORJSON[0](body)


_ORJSON: list[Any] = []


def signature_name(doc: Mapping[str, Any]) -> str:
    """The request's ``signature_name`` (default ``serving_default``)."""
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise format_error(doc, "not formatted correctly. 'signature_name' key must be a string value.")
    return name or "serving_default"


# --------------------------------------------------------------------------- JSON -> tensors


def _convert(val: Any, dtype: str) -> Any:
    """One JSON leaf as a value of ``dtype`` (AddValueToTensor)."""
    if isinstance(val, dict):
        if dtype == "string":
            return b64decode(val)
        raise _type_error(val, dtype)
    if dtype in ("float32", "float64", "float16"):
        if not isinstance(val, (int, float)) or isinstance(val, bool):
            raise _type_error(val, dtype)
        if isinstance(val, int):
            limit = 2**24 - 1 if dtype != "float64" else 2**53 - 1
            if abs(val) > limit:
                raise ApiError(
                    f"Cannot convert JSON value: {val} to {_TF_TYPE_NAMES[dtype]} without loss of precision."
                )
        elif dtype != "float64" and math.isfinite(val) and abs(val) > FLOAT32_MAX:
            raise ApiError(f"Cannot convert JSON value: {show(val)} to float without loss of precision.")
        return val
    if dtype in _INT_RANGES:
        if not isinstance(val, int) or isinstance(val, bool):
            raise _type_error(val, dtype)
        lo, hi = _INT_RANGES[dtype]
        if not lo <= val <= hi:
            raise _type_error(val, dtype)
        return val
    if dtype == "string":
        if not isinstance(val, str):
            raise _type_error(val, dtype)
        return val.encode("utf-8")
    if dtype == "bool":
        if not isinstance(val, bool):
            raise _type_error(val, dtype)
        return val
    raise ApiError(f"Conversion of JSON Value: {show(val)} to type: {_TF_TYPE_NAMES.get(dtype, dtype)}", status=501)


def _type_error(val: Any, dtype: str) -> ApiError:
    return ApiError(
        f"JSON Value: {show(val)} Type: {json_type(val)} is not of expected type: {_TF_TYPE_NAMES.get(dtype, dtype)}"
    )


def _dense_shape(val: Any) -> list[int]:
    shape = []
    while isinstance(val, list):
        shape.append(len(val))
        if not val:
            break
        val = val[0]
    return shape


def _fill(val: Any, level: int, shape: list[int], dtype: str, out: list[Any]) -> None:
    if not isinstance(val, list):
        if level != len(shape):
            raise ApiError(
                f"JSON Value: {show(val)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {len(shape)}"
            )
        out.append(_convert(val, dtype))
        return
    if level >= len(shape):
        raise ApiError(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(val) != shape[level]:
        raise ApiError(
            f"Encountered list at unexpected size: {len(val)} at level: {level} expected size: {shape[level]}"
        )
    for v in val:
        _fill(v, level + 1, shape, dtype, out)


def _to_array(val: Any, dtype: str) -> np.ndarray:
    """A (nested) JSON value as a dense array of ``dtype`` (FillTensorProto)."""
    shape = _dense_shape(val)
    values: list[Any] = []
    _fill(val, 0, shape, dtype, values)
    if dtype == "string":
        array = np.empty(len(values), dtype=object)
        array[:] = values
    else:
        array = np.array(values, dtype=np.dtype(dtype if dtype != "string" else object))
    return array.reshape(shape)


def _from_instances(doc: Mapping[str, Any], instances: Any, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    if not isinstance(instances, list):
        raise format_error(doc, "Excepting 'instances' to be an list/array")
    if not instances:
        raise format_error(doc, "No values in 'instances' array")
    fast = _fast_instances(instances, specs)
    if fast is not None:
        return fast
    names = sorted(specs)
    if not isinstance(instances[0], dict) and len(specs) > 1:
        raise ApiError(
            "instances is a plain list, but expecting list of objects as multiple input tensors "
            "required as per tensorinfo_map"
        )

    def is_object(v: Any) -> bool:
        return isinstance(v, dict) and not is_b64(v)

    objects = is_object(instances[0])
    columns: dict[str, list[Any]] = {}
    shapes: dict[str, tuple[int, ...]] = {}

    def add(item: Any, name: str) -> None:
        if name not in specs:
            raise ApiError(f"JSON object: does not have named input: {name}")
        if item is None:
            item = missing_json(name, specs[name])
        if not isinstance(item, list):  # the common case, a scalar per instance: no array per value
            value = _convert(item, specs[name].dtype)
            shape = shapes.setdefault(name, ())
            if shape != ():
                if int(np.prod(shape)) != 1:
                    raise ApiError(f"Expecting tensor size: {int(np.prod(shape))} but got: 1")
                raise ApiError(f"Expecting shape {shape_text(shape)} but got: []")
            columns.setdefault(name, []).append(value)
            return
        array = _to_array(item, specs[name].dtype)
        if name in shapes:
            if int(np.prod(shapes[name])) != array.size:
                raise ApiError(f"Expecting tensor size: {int(np.prod(shapes[name]))} but got: {array.size}")
            if shapes[name] != array.shape:
                raise ApiError(f"Expecting shape {shape_text(shapes[name])} but got: {shape_text(array.shape)}")
        else:
            shapes[name] = array.shape
        columns.setdefault(name, []).append(array)

    for i, elem in enumerate(instances):
        if objects:
            if not is_object(elem):
                raise ApiError(f"Expecting object but got list at item {i} of input list")
            for key, item in elem.items():
                try:
                    add(item, key)
                except ApiError as exc:
                    raise ApiError(
                        f"Failed to process element: {i} key: {key} of 'instances' list. "
                        f"Error: INVALID_ARGUMENT: {exc.message}",
                        exc.status,
                    ) from exc
            for name in names:
                if name not in elem:
                    try:
                        add(None, name)  # an absent key: missing, where the input may be missing
                    except ApiError as exc:
                        raise ApiError(
                            f"Failed to process element: {i} of 'instances' list. JSON object: {show(elem)} "
                            f"keys must be equal to: {','.join(names)}; {exc.message}",
                            exc.status,
                        ) from exc
        else:
            if is_object(elem):
                raise ApiError(f"Expecting value/list but got object at item {i} of input list")
            try:
                add(elem, names[0])
            except ApiError as exc:
                raise ApiError(
                    f"Failed to process element: {i} of 'instances' list. Error: INVALID_ARGUMENT: {exc.message}",
                    exc.status,
                ) from exc
    return {name: _column(values, shapes[name], specs[name].dtype) for name, values in columns.items()}


def _column(values: list[Any], shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """One batched input from its per-instance values (scalars, or arrays of one shape)."""
    if shape:
        return np.stack(values)
    if dtype == "string":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return np.array(values, dtype=np.dtype(dtype))


def _from_inputs(inputs: Any, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    if not isinstance(inputs, dict) or is_b64(inputs):
        if len(specs) > 1:
            raise ApiError(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                "required as per tensorinfo_map"
            )
        ((name, spec),) = specs.items()
        return {name: _to_array(_with_missing(inputs, name, spec), spec.dtype)}
    tensors = {}
    for name in sorted(specs):
        if name in inputs:
            tensors[name] = _to_array(_with_missing(inputs[name], name, specs[name]), specs[name].dtype)
    absent = sorted(set(specs) - set(inputs))
    if absent:
        batch = {int(a.shape[0]) for a in tensors.values() if a.ndim}
        for name in absent:
            if len(batch) != 1:  # no batch size to fill in: TF Serving's message
                raise ApiError(f"Missing named input: {name} in 'inputs' object.")
            try:
                value = missing_json(name, specs[name])
            except ApiError as exc:
                raise ApiError(f"Missing named input: {name} in 'inputs' object. {exc.message}") from exc
            tensors[name] = _to_array([value] * next(iter(batch)), specs[name].dtype)
    return tensors


def _with_missing(value: Any, name: str, spec: InputSpec) -> Any:
    """A columnar value with each ``null`` of its list (one value per instance) as the missing value."""
    if not isinstance(value, list) or None not in value:
        return value
    try:
        missing = missing_json(name, spec)
    except ApiError as exc:
        raise ApiError(f"{exc.message} (null at index {value.index(None)} of '{name}')") from exc
    return [missing if v is None else v for v in value]


def _check_shapes(tensors: Mapping[str, np.ndarray], specs: Mapping[str, InputSpec], signature: str) -> None:
    for name, array in tensors.items():
        shape = specs[name].shape
        if shape is None:
            continue
        if len(shape) != array.ndim or any(d is not None and d != a for d, a in zip(shape, array.shape, strict=True)):
            want = "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
            raise ApiError(
                f"input '{name}' has shape {shape_text(array.shape)}, which signature '{signature}' "
                f"does not accept; it expects {want}"
            )


def parse_predict(
    doc: Mapping[str, Any], specs: Mapping[str, InputSpec], signature: str
) -> tuple[dict[str, np.ndarray], str]:
    """``(input arrays, "row" | "columnar")`` from a predict request (FillPredictRequestFromJson)."""
    if not specs:
        raise ApiError(f"Failed to get input map for signature: {signature}")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise format_error(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ")
    if has_instances:
        tensors, fmt = _from_instances(doc, doc["instances"], specs), "row"
    elif has_inputs:
        tensors, fmt = _from_inputs(doc["inputs"], specs), "columnar"
    else:
        raise ApiError("Missing 'inputs' or 'instances' key")
    _check_shapes(tensors, specs, signature)
    return tensors, fmt
