"""TF Serving's REST JSON formats and messages (pipelines/serving/codec.py); numpy only, no model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pipelines.serving.codec import (
    ApiError,
    InputSpec,
    format_classify,
    format_predict,
    format_regress,
    parse_json,
    parse_predict,
)
from pipelines.serving.rest import tf_error_message

SPECS = {
    "age": InputSpec("int64", (None,)),
    "income": InputSpec("float32", (None,)),
    "city": InputSpec("string", (None,)),
}
ONE = {"examples": InputSpec("string", (None,))}


def test_rows_and_columns_give_the_same_tensors() -> None:
    rows, fmt = parse_predict(
        {"instances": [{"age": 3, "income": 1.5, "city": "a"}, {"age": 4, "income": 2, "city": {"b64": "YmI="}}]},
        SPECS,
        "s",
    )
    cols, fmt2 = parse_predict({"inputs": {"age": [3, 4], "income": [1.5, 2], "city": ["a", "bb"]}}, SPECS, "s")
    assert (fmt, fmt2) == ("row", "columnar")
    for name in SPECS:
        assert rows[name].tolist() == cols[name].tolist()
    assert rows["city"].tolist() == [b"a", b"bb"] and rows["age"].dtype == np.int64


def test_a_single_input_takes_a_plain_list() -> None:
    tensors, _ = parse_predict({"instances": [{"b64": "eA=="}, {"b64": "eQ=="}]}, ONE, "serving_examples")
    assert tensors["examples"].tolist() == [b"x", b"y"]
    tensors, _ = parse_predict({"inputs": ["x"]}, ONE, "serving_examples")
    assert tensors["examples"].tolist() == [b"x"]


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            {"instances": [{"age": "3", "income": 1.0, "city": "a"}]},
            "Failed to process element: 0 key: age of 'instances' list. Error: INVALID_ARGUMENT: "
            'JSON Value: "3" Type: String is not of expected type: int64',
        ),
        (
            {"instances": [{"age": True, "income": 1.0, "city": "a"}]},
            "JSON Value: true Type: True is not of expected type: int64",
        ),
        (
            {"instances": [{"age": 3.5, "income": 1.0, "city": "a"}]},
            "JSON Value: 3.5 Type: Number is not of expected type: int64",
        ),
        (
            {"instances": [{"age": None, "income": 1.0, "city": "a"}]},
            "Failed to process element: 0 key: age of 'instances' list. Error: INVALID_ARGUMENT: "
            "input 'age' may not be missing (null or absent): int64 inputs have no missing value",
        ),
        (
            {"instances": [{"age": 3, "income": 1e39, "city": "a"}]},
            "Cannot convert JSON value: 1e+39 to float without loss",
        ),
        ({"instances": [{"age": 3, "income": 1.0, "city": {"b64": "!!"}}]}, "Unable to base64 decode"),
        (
            {"instances": [{"city": "a", "income": 1.0}]},
            'Failed to process element: 0 of \'instances\' list. JSON object: {"city": "a", "income": 1.0} '
            "keys must be equal to: age,city,income; input 'age' may not be missing (null or absent)",
        ),
        ({"instances": [{"age": 3, "income": 1.0, "city": "a", "x": 1}]}, "JSON object: does not have named input: x"),
        ({"instances": [1, 2]}, "instances is a plain list, but expecting list of objects as multiple input tensors"),
        ({"instances": []}, "No values in 'instances' array"),
        ({"instances": {"age": 1}}, "Excepting 'instances' to be an list/array"),
        (
            {"inputs": {"city": ["a"], "income": [1.0]}},
            "Missing named input: age in 'inputs' object. input 'age' may not be missing (null or absent)",
        ),
        (
            {"inputs": {"age": [1, None], "income": [1.0, 2.0], "city": ["a", "b"]}},
            "input 'age' may not be missing (null or absent): int64 inputs have no missing value (only float inputs "
            "take NaN and string inputs take \"\") (null at index 1 of 'age')",
        ),
        ({"inputs": {"age": 1}}, "Missing named input: city in 'inputs' object."),  # no batch size to fill in
        ({"inputs": [1]}, "inputs is a plain value/list, but expecting an object as multiple input tensors"),
        (
            {"inputs": {"age": [1, [2]], "income": [1.0], "city": ["a"]}},
            "Encountered list at unexpected level: 1 expected < 1",
        ),
        (
            {"inputs": {"age": [[1], 2], "income": [1.0], "city": ["a"]}},
            "JSON Value: 2 found at incorrect level: 2 in the JSON DOM. Expected at level: 2",
        ),
        (
            {"inputs": {"age": [[1], [2, 3]], "income": [1.0], "city": ["a"]}},
            "Encountered list at unexpected size: 2 at level: 1 expected size: 1",
        ),
        (
            {"inputs": {"age": [[1]], "income": [1.0], "city": ["a"]}},
            "input 'age' has shape [1,1], which signature 's' does not accept; it expects [?]",
        ),
        (
            {"instances": [{"age": 1, "income": 1.0, "city": "a"}], "inputs": {}},
            "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist",
        ),
        ({"signature": "x"}, "Missing 'inputs' or 'instances' key"),
    ],
)
def test_bad_requests_get_tf_servings_message(doc: dict, message: str) -> None:
    with pytest.raises(ApiError, match=None) as info:
        parse_predict(doc, SPECS, "s")
    assert info.value.status == 400
    assert message in info.value.message


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "JSON Parse error: The document is empty"),
        (b'{"instances": [1,', "JSON Parse error: Expecting value at offset: 17"),
        (b"[1, 2]", "JSON Value: [1, 2] Is not object"),
    ],
)
def test_malformed_json(body: bytes, message: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_json(body)
    assert info.value.message == message and info.value.status == 400


def test_nan_and_infinity_are_accepted_and_written_back() -> None:
    assert parse_json(b'{"inputs": [NaN, Infinity, -Infinity]}')["inputs"][1] == float("inf")
    out = format_predict({"p": np.array([np.nan, np.inf, -np.inf], dtype=np.float32)}, "row")
    assert out == '{"predictions": [NaN, Infinity, -Infinity]}'


@pytest.mark.parametrize(
    "value, text",
    [
        (0.5, "0.5"),
        (1.0, "1.0"),
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (1234567.0, "1234567.0"),
        (0.509550273, "0.509550273"),
        (-3.0, "-3.0"),
    ],
)
def test_float32_outputs_are_written_like_tf_serving(value: float, text: str) -> None:
    assert format_predict({"p": np.array([value], dtype=np.float32)}, "columnar") == f'{{"outputs": [{text}]}}'


def test_several_outputs_rows_are_objects_columns_are_a_map() -> None:
    outputs = {
        "p": np.array([0.5, 0.25], dtype=np.float32),
        "id_bytes": np.array([b"\x00", b"z"], dtype=object),
        "n": np.array([[1, 2], [3, 4]]),
    }
    rows = json.loads(format_predict(outputs, "row"))
    assert rows == {
        "predictions": [
            {"id_bytes": {"b64": "AA=="}, "n": [1, 2], "p": 0.5},
            {"id_bytes": {"b64": "eg=="}, "n": [3, 4], "p": 0.25},
        ]
    }
    cols = json.loads(format_predict(outputs, "columnar"))
    assert cols == {
        "outputs": {"id_bytes": [{"b64": "AA=="}, {"b64": "eg=="}], "n": [[1, 2], [3, 4]], "p": [0.5, 0.25]}
    }


def test_classify_and_regress_results() -> None:
    p = {"probabilities": np.array([0.75, 0.5], dtype=np.float32)}
    assert json.loads(format_classify(p, "s")) == {"results": [[["0", 0.25], ["1", 0.75]], [["0", 0.5], ["1", 0.5]]]}
    scored = {"scores": np.array([[0.1, 0.9]], dtype=np.float32), "classes": np.array([[b"no", b"yes"]], dtype=object)}
    assert json.loads(format_classify(scored, "s")) == {"results": [[["no", 0.1], ["yes", 0.9]]]}
    assert json.loads(format_regress(p, "s")) == {"results": [0.75, 0.5]}
    with pytest.raises(ApiError, match="Expected output Tensor shape to be either"):
        format_regress({"x": np.zeros((2, 3), dtype=np.float32)}, "s")


# --------------------------------------------------------------------------- missing values

OPTIONAL = {**SPECS, "visits": InputSpec("float64", (None,))}  # an optional integer column is served as float64


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def test_null_and_an_absent_key_are_nan_and_empty_string_in_rows_and_columns() -> None:
    explicit = {"age": 3, "income": float("nan"), "city": "", "visits": float("nan")}
    want, _ = parse_predict({"instances": [explicit, {**explicit, "age": 4}]}, OPTIONAL, "s")
    assert math.isnan(want["income"][0]) and want["city"][0] == b"" and want["visits"].dtype == np.float64
    nulls = {"age": 3, "income": None, "city": None, "visits": None}
    for doc in (
        {"instances": [nulls, {"age": 4, "income": None, "city": None, "visits": None}]},
        {"instances": [{"age": 3}, {"age": 4}]},
        {"instances": [{"age": 3, "income": None}, {"age": 4, "city": None, "visits": None}]},
        {"inputs": {"age": [3, 4], "income": [None, None], "city": [None, None], "visits": [None, None]}},
        {"inputs": {"age": [3, 4]}},
        {"inputs": {"age": [3, 4], "city": [None, None]}},
    ):
        got, _ = parse_predict(doc, OPTIONAL, "s")
        assert set(got) == set(OPTIONAL) and all(_same(got[k], want[k]) for k in OPTIONAL), doc


def test_null_beside_values_is_missing_only_where_it_stands() -> None:
    got, _ = parse_predict(
        {"instances": [{"age": 1, "income": 2.5, "city": None}, {"age": 2, "income": None, "city": "x"}]}, SPECS, "s"
    )
    assert got["income"][0] == 2.5 and math.isnan(got["income"][1]) and got["city"].tolist() == [b"", b"x"]
    got, _ = parse_predict({"inputs": {"age": [1, 2], "income": [None, 2.5], "city": ["x", None]}}, SPECS, "s")
    assert math.isnan(got["income"][0]) and got["income"][1] == 2.5 and got["city"].tolist() == [b"x", b""]


@pytest.mark.parametrize(
    "spec, why",
    [
        (InputSpec("float32", (None,), may_be_missing=False), "the model requires it"),
        (InputSpec("bool", (None,)), "bool inputs have no missing value"),
        (InputSpec("float32", (None, 2)), "only an input with one value per instance (shape [?]) can be missing"),
    ],
)
def test_an_input_that_cannot_be_missing_refuses_null_and_absence_naming_it(spec: InputSpec, why: str) -> None:
    specs = {**SPECS, "x": spec}
    for doc in (
        {"instances": [{"age": 1, "income": 1.0, "city": "a", "x": None}]},
        {"instances": [{"age": 1, "income": 1.0, "city": "a"}]},
        {"inputs": {"age": [1], "income": [1.0], "city": ["a"], "x": [None]}},
        {"inputs": {"age": [1], "income": [1.0], "city": ["a"]}},
    ):
        with pytest.raises(ApiError) as info:
            parse_predict(doc, specs, "s")
        assert info.value.status == 400
        assert f"input 'x' may not be missing (null or absent): {why}" in info.value.message, doc


@pytest.mark.parametrize(
    "message, kernel",
    [
        (  # a loaded SavedModel's signature
            "Graph execution error:\n\nDetected at node Assert/Assert defined at (most recent call last):\n"
            "<stack traces unavailable>\nassertion failed: [column \\'timestamp\\': expected YYYY-MM-DD] [x]\n"
            "\t [[{{node Assert/Assert}}]] [Op:__inference_signature_wrapper_151]",
            "assertion failed: [column 'timestamp': expected YYYY-MM-DD] [x]\n\t [[{{node Assert/Assert}}]]",
        ),
        (  # a function traced in this process: its Python stack
            "Graph execution error:\n\nDetected at node Assert/Assert defined at (most recent call last):\n"
            '  File "a.py", line 9, in <module>\n\n  File "a.py", line 6, in f\n\n'
            "assertion failed: [bad] [x]\n\t [[{{node Assert/Assert}}]] [Op:__inference_f_12]",
            "assertion failed: [bad] [x]\n\t [[{{node Assert/Assert}}]]",
        ),
        ("Expected int64, got 1.5", "Expected int64, got 1.5"),
    ],
)
def test_tf_errors_carry_the_kernels_message_as_tf_serving_does(message: str, kernel: str) -> None:
    assert tf_error_message(message) == kernel


def test_the_row_fast_path_reads_what_the_columnar_path_reads_and_leaves_the_rest_to_it() -> None:
    from pipelines.serving.request_rows import fast_instances

    specs = {
        "i8": InputSpec("int8", (None,)),
        "u64": InputSpec("uint64", (None,)),
        "f32": InputSpec("float32", (None,)),
        "f64": InputSpec("float64", (None,)),
        "s": InputSpec("string", (None,)),
    }
    rows = [
        {"i8": -128, "u64": 2**64 - 1, "f32": 3, "f64": 1e300, "s": "a\x00b"},
        {"i8": 127, "u64": 0, "f32": 0.1, "f64": -2, "s": "é"},
        {"i8": 0, "u64": 5, "f32": float("nan"), "f64": 0.5, "s": ""},
    ]
    fast = fast_instances(rows, specs)
    columns, _ = parse_predict({"inputs": {k: [r[k] for r in rows] for k in specs}}, specs, "s")
    assert fast is not None
    for name in specs:
        assert fast[name].dtype == columns[name].dtype, name
        assert fast[name].tolist() == columns[name].tolist() or name == "f32", name  # NaN != NaN
    assert math.isnan(fast["f32"][2]) and fast["f32"][:2].tolist() == columns["f32"][:2].tolist()
    for bad in ({"i8": 128}, {"u64": -1}, {"f32": 2**24}, {"f32": 1e39}, {"f32": True}, {"s": 1}, {"i8": 1.0}):
        assert fast_instances([{**rows[0], **bad}], specs) is None, bad  # the general path words the error
        with pytest.raises(ApiError):
            parse_predict({"instances": [{**rows[0], **bad}]}, specs, "s")
