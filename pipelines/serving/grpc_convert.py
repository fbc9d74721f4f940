"""TF Serving's gRPC messages <-> arrays: tensors, classify and regress requests and results.

Used by the gRPC service for its answers and by the request log for every entry point, so a
logged request is the message a gRPC client would have sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipelines.serving.response import classify_rows, regress_values

__all__ = [
    "examples_request",
    "examples_response",
    "predict_request",
    "predict_response",
    "to_array",
    "to_tensor",
]


def to_tensor(array: np.ndarray) -> Any:
    """A ``TensorProto`` of ``array`` (an object array of bytes is DT_STRING)."""
    import tensorflow as tf

    return tf.make_tensor_proto(array)


def to_array(tensor: Any) -> np.ndarray:
    import tensorflow as tf

    return tf.make_ndarray(tensor)


def predict_request(arrays: Mapping[str, np.ndarray]) -> Any:
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    for name, array in arrays.items():
        request.inputs[name].CopyFrom(to_tensor(array))
    return request


def predict_response(outputs: Mapping[str, np.ndarray]) -> Any:
    from tensorflow_serving.apis import predict_pb2

    response = predict_pb2.PredictResponse()
    for name, array in outputs.items():
        response.outputs[name].CopyFrom(to_tensor(array))
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
