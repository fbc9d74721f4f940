"""Missing values and errors the model raises, over real HTTP, answered by the toy SavedModel.

JSON ``null`` and an absent key mean missing (NaN, ``""``) where the input may be missing;
an ``InvalidArgumentError`` from inside the signature is a 400 with the kernel's message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.serving.conftest import Server, call
from tests.serving.toy_model import COLUMNS, ROW, TIMESTAMP_FORMAT, expected_probability

pytestmark = pytest.mark.slow

PREDICT = "/v1/models/ad_click:predict"
ROW2 = {**ROW, "age": 61, "male": 1, "daily_time_spent_on_site": 40.5, "city": "Elsewhere"}


def p(row: dict[str, Any]) -> float:
    return expected_probability(row, 2.0)  # the served version's weight


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in ROW.items() if k != key}


@pytest.mark.parametrize("column, missing", [("daily_time_spent_on_site", "NaN"), ("city", '""')])
def test_null_and_an_absent_key_predict_as_nan_or_empty_string(server: Server, column: str, missing: str) -> None:
    rows = [{**ROW, column: None}, {**ROW2, column: None}]
    explicit = json.dumps({"instances": rows}).replace("null", missing)  # NaN: TF Serving's (non-JSON) token
    status, body = call(server.port, "POST", PREDICT, explicit.encode())
    assert status == 200
    want = body["predictions"]
    absent = [{k: v for k, v in r.items() if k != column} for r in rows]
    assert want == pytest.approx([p(r) for r in absent], abs=1e-6)
    assert want[0] != pytest.approx(p(ROW), abs=1e-4)  # the column made a difference
    for doc in (
        {"instances": rows},
        {"instances": absent},
        {"inputs": {k: [r[k] for r in rows] for k in ROW}},
        {"inputs": {k: [r[k] for r in absent] for k in absent[0]}},
    ):
        status, body = call(server.port, "POST", PREDICT, doc)
        assert status == 200, body
        assert body.get("predictions", body.get("outputs")) == pytest.approx(want, abs=1e-6), doc


def test_classify_takes_an_absent_or_null_feature_as_missing(server: Server) -> None:
    want = p(without("city"))
    for example in (without("city"), {**ROW, "city": None}, {**ROW, "city": []}):
        status, body = call(server.port, "POST", "/v1/models/ad_click:regress", {"examples": [example]})
        assert status == 200 and body == {"results": [pytest.approx(want, abs=1e-6)]}


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            {"instances": [{**ROW, "age": None}]},
            "Failed to process element: 0 key: age of 'instances' list. Error: INVALID_ARGUMENT: "
            "input 'age' may not be missing (null or absent): int64 inputs have no missing value",
        ),
        (
            {"inputs": {**{k: [v] for k, v in ROW.items()}, "male": [None]}},
            "input 'male' may not be missing (null or absent): int64 inputs have no missing value",
        ),
        (
            {"instances": [without("age")]},
            "keys must be equal to: " + ",".join(sorted(COLUMNS)) + "; input 'age' may not be missing",
        ),
    ],
)
def test_null_for_a_column_that_cannot_be_missing_is_a_400_naming_it(server: Server, doc: Any, message: str) -> None:
    status, body = call(server.port, "POST", PREDICT, doc)
    assert status == 400 and list(body) == ["error"] and message in body["error"]


@pytest.mark.parametrize(
    "path, doc",
    [
        (PREDICT, {"instances": [ROW, {**ROW2, "timestamp": "yesterday"}]}),
        (PREDICT, {"inputs": {**{k: [v] for k, v in ROW.items()}, "timestamp": ["yesterday"]}}),
        ("/v1/models/ad_click:regress", {"examples": [{**ROW, "timestamp": "yesterday"}]}),
        (
            "/v1/models/ad_click:classify",
            {"signature_name": "serving_examples", "examples": [{**ROW, "timestamp": "yesterday"}]},
        ),
    ],
)
def test_an_invalid_argument_from_the_model_is_a_400_with_the_kernels_message(
    server: Server, path: str, doc: Any
) -> None:
    """The toy's tf.debugging.Assert raises InvalidArgumentError inside the signature, as TF Serving reports it."""
    status, body = call(server.port, "POST", path, doc)
    assert status == 400 and list(body) == ["error"], body
    error = body["error"]
    assert error.startswith(f"assertion failed: [column 'timestamp': expected {TIMESTAMP_FORMAT}, got] [yesterday]")
    assert "Graph execution error" not in error and "[Op:" not in error and "stack traces" not in error
