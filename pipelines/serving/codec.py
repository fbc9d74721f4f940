"""TF Serving's REST JSON <-> tensors, with TF Serving's error messages.

Follows ``tensorflow_serving/util/json_tensor.cc``: ``instances`` (row) and ``inputs``
(columnar) predict requests, ``{"b64": ...}`` binary strings, classify/regress
``examples`` (+ ``context``) as ``tf.Example``s, and the response formats
(``predictions``, ``outputs``, ``results``). Floats are written the way TF Serving
writes them (6 significant digits unless that does not round-trip, ``NaN``/``Infinity``).
Pure numpy + protobuf; TensorFlow is needed only for ``tf.Example`` protos.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "ApiError",
    "InputSpec",
    "build_examples",
    "encode",
    "format_classify",
    "format_predict",
    "format_regress",
    "parse_classify_regress",
    "parse_json",
    "parse_predict",
]

# DataTypeString() names, which TF Serving's messages use.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "int8": "int8", "int16": "int16", "int32": "int32",
                  "int64": "int64", "uint8": "uint8", "uint32": "uint32", "uint64": "uint64", "string": "string",
                  "bool": "bool", "float16": "half"}
_INT_RANGES = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1), "int32": (-2**31, 2**31 - 1),
               "uint8": (0, 2**8 - 1), "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1),
               "uint64": (0, 2**64 - 1)}
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class ApiError(Exception):
    """A request TF Serving would refuse: ``status`` is the HTTP code, ``message`` the ``error`` text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class InputSpec:
    """One signature input: its TF dtype name (``float32``, ``string``...) and shape (None = unknown)."""

    dtype: str
    shape: tuple[int | None, ...] | None


# --------------------------------------------------------------------------- JSON helpers


def _json_type(val: Any) -> str:
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


def _show(val: Any) -> str:
    return json.dumps(val, ensure_ascii=False)


def _is_b64(val: Any) -> bool:
    return isinstance(val, dict) and len(val) == 1 and isinstance(val.get("b64"), str)


def _b64decode(val: Any) -> bytes:
    if not _is_b64(val):
        raise ApiError(f"JSON Value: {_show(val)} not formatted correctly for base64 data")
    try:
        return base64.b64decode(val["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("Unable to base64 decode") from None


def _format_error(doc: Any, *parts: str) -> ApiError:
    return ApiError(f"JSON Value: {_show(doc)} " + "".join(parts))


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (``NaN``/``Infinity`` accepted, as TF Serving does)."""
    if not body.strip():
        raise ApiError("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise ApiError(f"JSON Parse error: Invalid encoding in string. at offset: {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ApiError(f"JSON Parse error: {exc.msg} at offset: {exc.pos}") from None
    if not isinstance(doc, dict):
        raise _format_error(doc, "Is not object")
    return doc


def signature_name(doc: Mapping[str, Any]) -> str:
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise _format_error(doc, "not formatted correctly. 'signature_name' key must be a string value.")
    return name or "serving_default"


# --------------------------------------------------------------------------- JSON -> tensors


def _convert(val: Any, dtype: str) -> Any:
    """One JSON leaf as a value of ``dtype`` (AddValueToTensor)."""
    if isinstance(val, dict):
        if dtype == "string":
            return _b64decode(val)
        raise _type_error(val, dtype)
    if dtype in ("float32", "float64", "float16"):
        if not isinstance(val, (int, float)) or isinstance(val, bool):
            raise _type_error(val, dtype)
        if isinstance(val, int):
            limit = 2**24 - 1 if dtype != "float64" else 2**53 - 1
            if abs(val) > limit:
                raise ApiError(f"Cannot convert JSON value: {val} to {_TF_TYPE_NAMES[dtype]} without loss of precision.")
        elif dtype != "float64" and math.isfinite(val) and abs(val) > _FLOAT32_MAX:
            raise ApiError(f"Cannot convert JSON value: {_show(val)} to float without loss of precision.")
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
    raise ApiError(f"Conversion of JSON Value: {_show(val)} to type: {_TF_TYPE_NAMES.get(dtype, dtype)}", status=501)


def _type_error(val: Any, dtype: str) -> ApiError:
    return ApiError(f"JSON Value: {_show(val)} Type: {_json_type(val)} is not of expected type: "
                    f"{_TF_TYPE_NAMES.get(dtype, dtype)}")


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
            raise ApiError(f"JSON Value: {_show(val)} found at incorrect level: {level + 1} in the JSON DOM. "
                           f"Expected at level: {len(shape)}")
        out.append(_convert(val, dtype))
        return
    if level >= len(shape):
        raise ApiError(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(val) != shape[level]:
        raise ApiError(f"Encountered list at unexpected size: {len(val)} at level: {level} "
                       f"expected size: {shape[level]}")
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


def _shape_text(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _from_instances(doc: Mapping[str, Any], instances: Any, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    if not isinstance(instances, list):
        raise _format_error(doc, "Excepting 'instances' to be an list/array")
    if not instances:
        raise _format_error(doc, "No values in 'instances' array")
    names = sorted(specs)
    if not isinstance(instances[0], dict) and len(specs) > 1:
        raise ApiError("instances is a plain list, but expecting list of objects as multiple input tensors "
                       "required as per tensorinfo_map")

    def is_object(v: Any) -> bool:
        return isinstance(v, dict) and not _is_b64(v)

    objects = is_object(instances[0])
    columns: dict[str, list[Any]] = {}
    shapes: dict[str, tuple[int, ...]] = {}

    def add(item: Any, name: str) -> None:
        if name not in specs:
            raise ApiError(f"JSON object: does not have named input: {name}")
        if not isinstance(item, list):  # the common case, a scalar per instance: no array per value
            value = _convert(item, specs[name].dtype)
            shape = shapes.setdefault(name, ())
            if shape != ():
                if int(np.prod(shape)) != 1:
                    raise ApiError(f"Expecting tensor size: {int(np.prod(shape))} but got: 1")
                raise ApiError(f"Expecting shape {_shape_text(shape)} but got: []")
            columns.setdefault(name, []).append(value)
            return
        array = _to_array(item, specs[name].dtype)
        if name in shapes:
            if int(np.prod(shapes[name])) != array.size:
                raise ApiError(f"Expecting tensor size: {int(np.prod(shapes[name]))} but got: {array.size}")
            if shapes[name] != array.shape:
                raise ApiError(f"Expecting shape {_shape_text(shapes[name])} but got: {_shape_text(array.shape)}")
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
                    raise ApiError(f"Failed to process element: {i} key: {key} of 'instances' list. "
                                   f"Error: INVALID_ARGUMENT: {exc.message}", exc.status) from None
            if set(elem) != set(names):
                raise ApiError(f"Failed to process element: {i} of 'instances' list. JSON object: {_show(elem)} "
                               f"keys must be equal to: {','.join(names)}")
        else:
            if is_object(elem):
                raise ApiError(f"Expecting value/list but got object at item {i} of input list")
            try:
                add(elem, names[0])
            except ApiError as exc:
                raise ApiError(f"Failed to process element: {i} of 'instances' list. "
                               f"Error: INVALID_ARGUMENT: {exc.message}", exc.status) from None
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
    if not isinstance(inputs, dict) or _is_b64(inputs):
        if len(specs) > 1:
            raise ApiError("inputs is a plain value/list, but expecting an object as multiple input tensors "
                           "required as per tensorinfo_map")
        (name, spec), = specs.items()
        return {name: _to_array(inputs, spec.dtype)}
    tensors = {}
    for name in sorted(specs):
        if name not in inputs:
            raise ApiError(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = _to_array(inputs[name], specs[name].dtype)
    return tensors


def _check_shapes(tensors: Mapping[str, np.ndarray], specs: Mapping[str, InputSpec], signature: str) -> None:
    for name, array in tensors.items():
        shape = specs[name].shape
        if shape is None:
            continue
        if len(shape) != array.ndim or any(d is not None and d != a for d, a in zip(shape, array.shape)):
            want = "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
            raise ApiError(f"input '{name}' has shape {_shape_text(array.shape)}, which signature '{signature}' "
                           f"does not accept; it expects {want}")


def parse_predict(doc: Mapping[str, Any], specs: Mapping[str, InputSpec], signature: str) -> tuple[dict[str, np.ndarray], str]:
    """``(input arrays, "row" | "columnar")`` from a predict request (FillPredictRequestFromJson)."""
    if not specs:
        raise ApiError(f"Failed to get input map for signature: {signature}")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise _format_error(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ")
    if has_instances:
        tensors, fmt = _from_instances(doc, doc["instances"], specs), "row"
    elif has_inputs:
        tensors, fmt = _from_inputs(doc["inputs"], specs), "columnar"
    else:
        raise ApiError("Missing 'inputs' or 'instances' key")
    _check_shapes(tensors, specs, signature)
    return tensors, fmt


# --------------------------------------------------------------------------- classify / regress


def _add_feature_value(val: Any, name: str, feature: Any) -> None:
    kind = feature.WhichOneof("kind")

    def need(k: str) -> None:
        if kind not in (None, k):
            raise ApiError(f"Unexpected element type in feature: {name} expecting type: "
                           f"{ {'bytes_list': 'bytes', 'float_list': 'float', 'int64_list': 'int64'}[kind] }")

    if val is None or isinstance(val, list) or (isinstance(val, dict) and not _is_b64(val)):
        raise ApiError(f"Feature: {name} has element with unexpected JSON type: {_json_type(val)}")
    if isinstance(val, bool):
        need("int64_list")
        feature.int64_list.value.append(int(val))
    elif isinstance(val, dict):
        need("bytes_list")
        feature.bytes_list.value.append(_b64decode(val))
    elif isinstance(val, str):
        need("bytes_list")
        feature.bytes_list.value.append(val.encode("utf-8"))
    elif isinstance(val, float):
        need("float_list")
        if math.isfinite(val) and abs(val) > _FLOAT32_MAX:
            raise ApiError(f"Cannot convert JSON value: {_show(val)} to float without loss of precision.")
        feature.float_list.value.append(val)
    else:
        need("int64_list")
        if val > 2**63 - 1 or val < -2**63:
            raise ApiError(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(val)


def _example_from_json(val: Any, example: Any) -> None:
    if not isinstance(val, dict):
        raise ApiError(f"Example must be JSON object but got JSON {_json_type(val)}")
    for name, content in val.items():
        feature = example.features.feature[name]
        feature.Clear()
        for v in content if isinstance(content, list) else [content]:
            _add_feature_value(v, name, feature)


def parse_classify_regress(doc: Mapping[str, Any], method: str) -> list[Any]:
    """The request's ``examples`` (with ``context`` merged into each) as ``tf.train.Example`` protos."""
    from tensorflow.core.example import example_pb2

    context = None
    if "context" in doc:
        context = example_pb2.Example()
        _example_from_json(doc["context"], context)
    if "examples" not in doc:
        raise _format_error(doc, f"When method is {method}, key 'examples' is expected and was not found")
    items = doc["examples"]
    if not isinstance(items, list):
        raise _format_error(doc, "Expecting 'examples' value to be an list/array")
    if not items:
        raise _format_error(doc, "'examples' value is an empty array")
    examples = []
    for item in items:
        example = example_pb2.Example()
        _example_from_json(item, example)
        if context is not None:
            merged = example_pb2.Example()
            merged.CopyFrom(context)
            for name, feature in example.features.feature.items():
                merged.features.feature[name].CopyFrom(feature)
            example = merged
        examples.append(example)
    return examples


_KINDS = {"bytes_list": "string", "float_list": "float", "int64_list": "int64"}


def build_examples(examples: Sequence[Any], specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    """Raw signature inputs (one value per example for each input) from ``tf.Example`` protos.

    The rules are ``tf.io.parse_example``'s for a ``FixedLenFeature([])``, with its messages,
    so the default raw signature and an examples signature accept the same requests.
    """
    columns: dict[str, list[Any]] = {name: [] for name in specs}
    for index, example in enumerate(examples):
        features = example.features.feature
        for name, spec in specs.items():
            expected = "float" if spec.dtype.startswith("float") else "string" if spec.dtype == "string" else "int64"
            if name not in features or features[name].WhichOneof("kind") is None:
                raise ApiError(f"Feature: {name} (data type: {expected}) is required but could not be found.")
            feature = features[name]
            kind = feature.WhichOneof("kind")
            if _KINDS[kind] != expected:
                raise ApiError(f"Key: {name}.  Data types don't match. Data type: {_KINDS[kind]} "
                               f"but expected type: {expected}")
            values = getattr(feature, kind).value
            if len(values) != 1:
                raise ApiError(f"Name: <unknown>, Key: {name}, Index: {index}.  Number of {expected} values != "
                               f"expected.  Values size: {len(values)} but output shape: []")
            columns[name].append(values[0])
    out = {}
    for name, values in columns.items():
        dtype = specs[name].dtype
        if dtype == "string":
            array = np.empty(len(values), dtype=object)
            array[:] = values
        else:
            array = np.array(values, dtype=np.dtype(dtype))
        out[name] = array
    return out


# --------------------------------------------------------------------------- tensors -> JSON


class _Raw(str):
    """Text written into the JSON as is (numbers formatted like TF Serving)."""


def _float_text(value: float, single: bool) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = "%.6g" % value
    if (np.float32(text) if single else float(text)) != (np.float32(value) if single else value):
        text = "%.9g" % value if single else "%.17g" % value
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _leaves(array: np.ndarray, as_bytes: bool) -> list[Any]:
    kind = array.dtype.kind
    if kind == "f":
        single = array.dtype.itemsize <= 4
        return [_Raw(_float_text(v, single)) for v in array.tolist()]
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
        return encode({"predictions": [_nest(item, as_bytes[names[0]]) for item in outputs[names[0]]]})
    rows = [{n: _nest(outputs[n][i], as_bytes[n]) for n in names} for i in range(batch or 0)]
    return encode({"predictions": rows})


def format_classify(outputs: Mapping[str, np.ndarray], signature: str) -> str:
    """``{"results": [[[label, score], ...], ...]}``.

    A ``scores`` output (with ``classes`` if present) is used as TF Serving does; a single
    ``[batch]`` probability output is a binary classifier: ``[["0", 1 - p], ["1", p]]``.
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
        raise ApiError(f"signature '{signature}' cannot classify: it needs a 'scores' output or exactly one output "
                       f"(it returns {', '.join(sorted(outputs))})")
    if scores.ndim != 2:
        raise ApiError(f"Expected Tensor shape: [batch_size num_classes] but got {_shape_text(scores.shape)}")
    results = []
    for i, row in enumerate(scores):
        labels = [b""] * len(row) if classes is None else list(np.asarray(classes)[i])
        results.append([[(lb.decode("utf-8", "replace") if isinstance(lb, bytes) else str(lb)),
                         _Raw(_float_text(s, True))] for lb, s in zip(labels, row.tolist())])
    return encode({"results": results})


def format_regress(outputs: Mapping[str, np.ndarray], signature: str) -> str:
    """``{"results": [value, ...]}`` from the ``outputs`` output, or the only output."""
    if "outputs" in outputs:
        values = outputs["outputs"]
    elif len(outputs) == 1:
        (values,) = outputs.values()
    else:
        raise ApiError(f"signature '{signature}' cannot regress: it needs an 'outputs' output or exactly one output "
                       f"(it returns {', '.join(sorted(outputs))})")
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or values.dtype.kind != "f":
        raise ApiError(f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
                       f"{_shape_text(values.shape)}")
    return encode({"results": [_Raw(_float_text(v, values.dtype.itemsize <= 4)) for v in values.tolist()]})
