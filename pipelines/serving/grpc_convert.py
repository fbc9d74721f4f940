"""TF Serving's gRPC messages <-> arrays: tensors, classify and regress requests and results.

Used by the gRPC service for its answers and by the request log for every entry point, so a
logged request is the message a gRPC client would have sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipelines.serving.response import classify_rows, regress_values

__all__ = [
    "examples_request",
    "examples_response",
    "fill_tensor",
    "predict_request",
    "predict_response",
    "to_array",
    "to_tensor",
]


# DataType enum -> (numpy dtype, the TensorProto field of its values), for the common numeric types.
_NUMERIC = {
    1: (np.dtype(np.float32), "float_val"),
    2: (np.dtype(np.float64), "double_val"),
    3: (np.dtype(np.int32), "int_val"),
    9: (np.dtype(np.int64), "int64_val"),
}
_ENUM = {dtype: (enum, field) for enum, (dtype, field) in _NUMERIC.items()}
_DT_STRING = 7


def to_tensor(array: np.ndarray) -> Any:
    """A ``TensorProto`` of ``array`` (an object array of bytes is DT_STRING): the message
    ``tf.make_tensor_proto`` makes, built directly for a float32/64 or int32/64 array."""
    from tensorflow.core.framework import tensor_pb2

    proto = tensor_pb2.TensorProto()
    fill_tensor(proto, array)
    return proto


def fill_tensor(proto: Any, array: np.ndarray) -> None:
    """:func:`to_tensor` written into ``proto`` (e.g. ``response.outputs[name]``): no message copied."""
    known = _ENUM.get(array.dtype) if isinstance(array, np.ndarray) else None
    if known is None:
        import tensorflow as tf

        proto.CopyFrom(tf.make_tensor_proto(array))
        return
    proto.dtype = known[0]
    proto.tensor_shape.SetInParent()  # present even for a scalar, as make_tensor_proto writes it
    dims = proto.tensor_shape.dim
    for d in array.shape:
        dims.add().size = d
    if array.size > 1:  # as make_tensor_proto: raw bytes, except for a single value
        proto.tensor_content = array.tobytes()  # C order, whatever the array's layout
    else:
        getattr(proto, known[1]).extend(array.ravel().tolist())


def to_array(tensor: Any) -> np.ndarray:
    """``tf.make_ndarray(tensor)``; read directly when it holds exactly its values (raw bytes of a
    float32/64 or int32/64 tensor, or one value per element), the usual clients' messages."""
    shape = [d.size for d in tensor.tensor_shape.dim]
    count = math.prod(shape)  # 1 for a scalar; numpy's prod costs ~10 us a call
    if tensor.dtype == _DT_STRING and not tensor.tensor_content and len(tensor.string_val) == count:
        array = np.empty(count, dtype=object)
        array[:] = list(tensor.string_val)
        return array.reshape(shape)
    known = _NUMERIC.get(tensor.dtype)
    if known is not None:
        if tensor.tensor_content:  # a read-only view of the message's bytes: the signature copies them in
            flat = np.frombuffer(tensor.tensor_content, dtype=known[0])
            if flat.size == count:
                return flat.reshape(shape)
        else:
            values = getattr(tensor, known[1])
            if len(values) == count:
                return np.array(values, dtype=known[0]).reshape(shape)
    import tensorflow as tf

    return tf.make_ndarray(tensor)


def predict_request(arrays: Mapping[str, np.ndarray]) -> Any:
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    for name, array in arrays.items():
        fill_tensor(request.inputs[name], array)
    return request


def predict_response(outputs: Mapping[str, np.ndarray]) -> Any:
    from tensorflow_serving.apis import predict_pb2

    response = predict_pb2.PredictResponse()
    for name, array in outputs.items():
        fill_tensor(response.outputs[name], array)
    return response


def examples_request(method: str, examples: Sequence[Any]) -> Any:
    """A ClassificationRequest or RegressionRequest holding ``examples`` (``tf.train.Example``)."""
    from tensorflow_serving.apis import classification_pb2, regression_pb2

    request = classification_pb2.ClassificationRequest() if method == "classify" else regression_pb2.RegressionRequest()
    request.input.example_list.examples.extend(examples)
    return request


def examples_response(method: str, outputs: Mapping[str, np.ndarray], signature: str) -> Any:
    """A ClassificationResponse or RegressionResponse from a signature's outputs, read as REST reads them."""
    from tensorflow_serving.apis import classification_pb2, regression_pb2

    if method == "classify":
        response = classification_pb2.ClassificationResponse()
        for row in classify_rows(outputs, signature):
            result = response.result.classifications.add()
            for label, score in row:
                result.classes.add(label=label, score=score)
        return response
    response = regression_pb2.RegressionResponse()
    for value in regress_values(outputs, signature).tolist():
        response.result.regressions.add(value=value)
    return response
