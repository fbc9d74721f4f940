"""Classify and regress requests: ``examples`` (+ ``context``) JSON -> ``tf.Example`` -> arrays.

Follows TF Serving's ``FillClassificationRequestFromJson`` / ``FillRegressionRequestFromJson``
and, for the raw signature, ``tf.io.parse_example``'s rules and messages. TensorFlow is
needed only for the ``tf.Example`` proto. One addition: a feature given as ``null`` has no
values (as one given as ``[]``), and a feature with no values is a missing value for a raw
input that may be missing (:func:`pipelines.serving.codec_base.missing_json`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
    show,
)

__all__ = ["build_examples", "parse_classify_regress"]


def _add_feature_value(val: Any, name: str, feature: Any) -> None:
    kind = feature.WhichOneof("kind")

    def need(k: str) -> None:
        if kind not in (None, k):
            raise ApiError(
                f"Unexpected element type in feature: {name} expecting type: "
                f"{ {'bytes_list': 'bytes', 'float_list': 'float', 'int64_list': 'int64'}[kind] }"
            )

    if val is None or isinstance(val, list) or (isinstance(val, dict) and not is_b64(val)):
        raise ApiError(f"Feature: {name} has element with unexpected JSON type: {json_type(val)}")
    if isinstance(val, bool):
        need("int64_list")
        feature.int64_list.value.append(int(val))
    elif isinstance(val, dict):
        need("bytes_list")
        feature.bytes_list.value.append(b64decode(val))
    elif isinstance(val, str):
        need("bytes_list")
        feature.bytes_list.value.append(val.encode("utf-8"))
    elif isinstance(val, float):
        need("float_list")
        if math.isfinite(val) and abs(val) > FLOAT32_MAX:
            raise ApiError(f"Cannot convert JSON value: {show(val)} to float without loss of precision.")
        feature.float_list.value.append(val)
    else:
        need("int64_list")
        if val > 2**63 - 1 or val < -(2**63):
            raise ApiError(f"Feature: {name} has uint64 element. Only int64 is supported.")
        feature.int64_list.value.append(val)


def _example_from_json(val: Any, example: Any) -> None:
    if not isinstance(val, dict):
        raise ApiError(f"Example must be JSON object but got JSON {json_type(val)}")
    for name, content in val.items():
        feature = example.features.feature[name]
        feature.Clear()
        if content is None:  # null: a feature without values, i.e. missing
            continue
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
        raise format_error(doc, f"When method is {method}, key 'examples' is expected and was not found")
    items = doc["examples"]
    if not isinstance(items, list):
        raise format_error(doc, "Expecting 'examples' value to be an list/array")
    if not items:
        raise format_error(doc, "'examples' value is an empty array")
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
                try:
                    value = missing_json(name, spec)
                except ApiError as exc:
                    raise ApiError(
                        f"Feature: {name} (data type: {expected}) is required but could not be found. {exc.message}"
                    ) from exc
                columns[name].append(value.encode("utf-8") if isinstance(value, str) else value)
                continue
            feature = features[name]
            kind = feature.WhichOneof("kind")
            if _KINDS[kind] != expected:
                raise ApiError(
                    f"Key: {name}.  Data types don't match. Data type: {_KINDS[kind]} but expected type: {expected}"
                )
            values = getattr(feature, kind).value
            if len(values) != 1:
                raise ApiError(
                    f"Name: <unknown>, Key: {name}, Index: {index}.  Number of {expected} values != "
                    f"expected.  Values size: {len(values)} but output shape: []"
                )
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
