"""The request path's shortcuts give exactly what the general calls give: the signature's flat call,
direct TensorProto reading and writing, vectorised float text and row parsing."""

from __future__ import annotations

import dataclasses
import random
import struct
from typing import Any

import numpy as np
import pytest

from pipelines.serving.response import _float_text, _float_texts
from tests.serving.toy_model import ROW


@pytest.fixture(scope="module")
def signature(toy_models: dict[float, str]) -> Any:
    from pipelines.serving.loading import load_version

    return load_version("toy", 1, toy_models[1.0]).signatures["serving_default"]


def rows(signature: Any, n: int) -> dict[str, np.ndarray]:
    from pipelines.serving import codec

    doc = {"instances": [{**ROW, "age": 20 + i} for i in range(n)]}
    return codec.parse_predict(doc, signature.inputs, "serving_default")[0]


def test_the_flat_call_answers_as_the_keyword_call_and_bad_shapes_take_the_keyword_call(signature: Any) -> None:
    import tensorflow as tf

    from pipelines.serving.service import run_signature

    assert signature.flat is not None and signature.order == tuple(sorted(signature.inputs))
    used: list[str] = []
    flat = signature.flat
    counted = dataclasses.replace(signature)
    object.__setattr__(counted, "flat", lambda tensors: used.append("flat") or flat(tensors))
    arrays = rows(signature, 5)
    expected = signature.fn(**{k: tf.constant(v, dtype=signature.inputs[k].dtype) for k, v in arrays.items()})
    got = run_signature(counted, arrays)
    assert used == ["flat"] and got["probabilities"].tolist() == expected["probabilities"].numpy().tolist()

    wrong = {**arrays, "age": arrays["age"].reshape(5, 1)}  # [5, 1] where the signature takes [?]
    run_signature(counted, wrong)
    assert used == ["flat"]  # the keyword call took it (and does to it what it always did)


def test_a_wrapped_signature_function_is_called_by_keyword(signature: Any) -> None:
    from pipelines.serving.service import run_signature

    seen: list[int] = []

    def wrapper(**tensors: Any) -> Any:
        seen.append(len(tensors))
        return signature.fn(**tensors)

    wrapped = dataclasses.replace(signature, fn=wrapper)
    assert wrapped.flat is None
    assert run_signature(wrapped, rows(signature, 2))["probabilities"].shape == (2,) and seen == [9]


def test_tensor_protos_are_read_and_written_as_tensorflow_does() -> None:
    import tensorflow as tf

    from pipelines.serving.grpc_convert import to_array, to_tensor

    strings = np.empty(2, dtype=object)
    strings[:] = [b"a", b"bc"]
    arrays = [
        np.array([0.5], np.float32),
        np.array([[1.5, 2.5]], np.float32),
        np.array(3.0, np.float64),
        np.zeros((0, 3), np.float64),
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.array([7], np.int32),
        strings,
        np.array([True, False]),
        np.array([1.0], np.float16),
    ]
    for array in arrays:
        reference = tf.make_tensor_proto(array)
        assert to_tensor(array).SerializeToString() == reference.SerializeToString(), array
        back = to_array(reference)
        assert back.dtype == array.dtype and back.shape == array.shape and (back == array).all()
    # messages other clients make: typed values, one value broadcast, strings by value
    for proto in (
        tf.make_tensor_proto([1.0, 2.0], dtype=tf.float32),
        tf.make_tensor_proto(5, dtype=tf.int64, shape=[3]),
        tf.make_tensor_proto("s", shape=[2]),
    ):
        mine, reference = to_array(proto), tf.make_ndarray(proto)
        assert mine.dtype == reference.dtype and mine.tolist() == reference.tolist()


def test_float_text_of_a_whole_array_is_the_text_of_each_value() -> None:
    rng = random.Random(7)
    values = [0.5, 1.0, 0.1, 1e-05, 1234567.0, 0.509550273, -3.0, 0.0, -0.0, 1e30, 3.4e38, 1e-45, 1e16, 2.5e-8]
    values += [struct.unpack("f", struct.pack("I", rng.getrandbits(32)))[0] for _ in range(5000)]
    values += [rng.random() * 10 ** rng.randint(-10, 10) for _ in range(5000)]
    values = [v for v in values if np.isfinite(v)]
    for dtype, single in ((np.float32, True), (np.float64, False), (np.float16, True)):
        for chosen in (values, values[:64], [0.25, float("nan"), float("inf"), -float("inf")]):
            with np.errstate(over="ignore"):  # float16 holds no value beyond 65504: infinity
                array = np.array(chosen, dtype=dtype)
            assert _float_texts(array) == [_float_text(v, single) for v in array.tolist()]


def test_a_lone_request_runs_on_the_loop_only_while_requests_are_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import threading
    import time
    from types import SimpleNamespace

    from pipelines.serving import rest

    threads: list[str] = []

    def slow_handle(*args: Any) -> tuple[int, str]:
        threads.append(threading.current_thread().name)
        time.sleep(0.01)  # a model call of 10 ms: too slow to hold the event loop
        return 200, "{}"

    monkeypatch.setattr(rest, "handle", slow_handle)
    endpoint = rest._TfServingEndpoint(SimpleNamespace(async_batcher=None), rest.HttpOptions())
    scope = {"type": "http", "method": "POST", "path": "/v1/models/m:predict", "headers": [(b"content-length", b"2")]}

    async def one() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await endpoint(scope, receive, send)

    async def three() -> None:
        for _ in range(3):
            await one()

    asyncio.run(three())
    endpoint.offload.close()
    main = threading.current_thread().name
    assert threads[0] == main and all(t.startswith("rest") for t in threads[1:]), threads
