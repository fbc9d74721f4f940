"""TF Serving's REST JSON <-> arrays, with TF Serving's error messages: the codec's public names.

Follows ``tensorflow_serving/util/json_tensor.cc``, split by direction:

- :mod:`pipelines.serving.request_predict`: ``instances`` (row) and ``inputs`` (columnar)
  predict requests, ``{"b64": ...}`` binary strings.
- :mod:`pipelines.serving.request_examples`: classify/regress ``examples`` (+ ``context``) as
  ``tf.Example``s, and the raw inputs a raw signature takes from them.
- :mod:`pipelines.serving.response`: the response formats (``predictions``, ``outputs``,
  ``results``), floats written the way TF Serving writes them.
- :mod:`pipelines.serving.codec_base`: ``ApiError`` and ``InputSpec``, shared by the three.

Example:
    >>> specs = {"age": InputSpec("int64", (None,))}
    >>> arrays, fmt = parse_predict({"instances": [{"age": 3}]}, specs, "serving_default")
    >>> format_predict({"p": arrays["age"] * 0.5}, fmt)
    '{"predictions": [1.5]}'
"""

from pipelines.serving.codec_base import ApiError, InputSpec
from pipelines.serving.request_examples import build_examples, parse_classify_regress
from pipelines.serving.request_predict import parse_json, parse_predict, signature_name
from pipelines.serving.response import encode, format_classify, format_predict, format_regress

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
    "signature_name",
]
