"""A small real SavedModel with the two signatures components/trainer.py exports.

``serving_default`` takes the nine raw ad-click columns (each ``[None]``) and
``serving_examples`` takes serialized ``tf.Example``s; both return
``{"probabilities": [batch] float32}`` from the same tiny computation. ``weight``
changes every probability, so tests can tell two versions apart by their answers.

Like the trainer's model, it takes NaN as a missing number (``daily_time_spent_on_site``
becomes :data:`MEAN_TIME`, as the transform imputes the training mean) and ``""`` as a
missing string, and refuses a ``timestamp`` that does not parse with a ``tf.debugging``
assertion (an ``InvalidArgumentError`` naming the column and :data:`TIMESTAMP_FORMAT`).
"""

from __future__ import annotations

import math
import os
from typing import Any

import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

COLUMNS = {
    "daily_time_spent_on_site": "float32",
    "age": "int64",
    "area_income": "float32",
    "daily_internet_usage": "float32",
    "ad_topic_line": "string",
    "city": "string",
    "male": "int64",
    "country": "string",
    "timestamp": "string",
}

MEAN_TIME = 65.0  # what a missing daily_time_spent_on_site becomes
TIMESTAMP_FORMAT = "YYYY-MM-DD HH:MM:SS"

ROW = {
    "daily_time_spent_on_site": 68.95,
    "age": 35,
    "area_income": 61833.9,
    "daily_internet_usage": 256.09,
    "ad_topic_line": "Cloned 5thgeneration orchestration",
    "city": "Wrightburgh",
    "male": 0,
    "country": "Tunisia",
    "timestamp": "2016-03-27 00:53:11",
}


def example_features(row: dict[str, Any]) -> dict[str, Any]:
    """``tf.train.Feature``s for a raw row, typed as the toy model's columns."""
    import tensorflow as tf

    def feature(name: str, value: Any) -> Any:
        if COLUMNS[name] == "string":
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        if COLUMNS[name] == "int64":
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))

    return {k: feature(k, v) for k, v in row.items()}


def expected_probability(row: dict[str, Any], weight: float) -> float:
    """What the toy model answers for ``row`` (float64 arithmetic; compare with a tolerance).

    A column absent from ``row``, None or NaN is missing: the mean time, or ``""``.
    """
    time = row.get("daily_time_spent_on_site")
    row = {k: "" if row.get(k) is None and t == "string" else row.get(k) for k, t in COLUMNS.items()}
    z = (
        weight
        * (
            (MEAN_TIME if time is None or math.isnan(time) else time) / 100.0
            - row["age"] / 50.0
            + row["area_income"] / 1e5
            - row["daily_internet_usage"] / 300.0
            + 0.1 * row["male"]
        )
        + 0.01 * len(row["ad_topic_line"])
        - 0.01 * len(row["city"])
        + 0.005 * len(row["country"])
        + 0.001 * len(row["timestamp"])
    )
    return 1.0 / (1.0 + math.exp(-z))


def build_toy_model(path: str | os.PathLike[str], weight: float = 1.0) -> str:
    """Save the toy SavedModel at ``path`` and return the path."""
    import tensorflow as tf

    specs = {name: tf.TensorSpec([None], getattr(tf, dtype), name=name) for name, dtype in COLUMNS.items()}
    parse_spec = {name: tf.io.FixedLenFeature([], getattr(tf, dtype)) for name, dtype in COLUMNS.items()}

    class Toy(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = tf.Variable(weight, dtype=tf.float32)

        def predict(self, f: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
            def length(x: tf.Tensor) -> tf.Tensor:
                return tf.cast(tf.strings.length(x), tf.float32)

            stamp = f["timestamp"]
            parses = tf.logical_or(
                tf.equal(stamp, ""), tf.strings.regex_full_match(stamp, r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
            )
            tf.debugging.Assert(
                tf.reduce_all(parses),
                [f"column 'timestamp': expected {TIMESTAMP_FORMAT}, got", tf.boolean_mask(stamp, ~parses)],
            )
            time = f["daily_time_spent_on_site"]
            time = tf.where(tf.math.is_nan(time), MEAN_TIME, time)
            z = (
                self.weight
                * (
                    time / 100.0
                    - tf.cast(f["age"], tf.float32) / 50.0
                    + f["area_income"] / 1e5
                    - f["daily_internet_usage"] / 300.0
                    + 0.1 * tf.cast(f["male"], tf.float32)
                )
                + 0.01 * length(f["ad_topic_line"])
                - 0.01 * length(f["city"])
                + 0.005 * length(f["country"])
                + 0.001 * length(f["timestamp"])
            )
            return {"probabilities": tf.sigmoid(z)}

        @tf.function(input_signature=[specs])
        def serve_raw(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
            return self.predict(features)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve_examples(self, examples: tf.Tensor) -> dict[str, tf.Tensor]:
            return self.predict(tf.io.parse_example(examples, parse_spec))

    module = Toy()
    tf.saved_model.save(
        module,
        os.fspath(path),
        signatures={
            "serving_default": module.serve_raw.get_concrete_function(),
            "serving_examples": module.serve_examples.get_concrete_function(),
        },
    )
    return os.fspath(path)
