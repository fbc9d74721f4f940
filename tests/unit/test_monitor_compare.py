"""Skew and drift rows measured by TFDV on real statistics, judged by the monitoring bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.config.monitoring import MonitoringSection
from pipelines.monitoring.compare import drift_rows, skew_rows, window_statistics


def frame(n: int, seed: int, age_shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(35, 8, n).round().astype(np.int64) + int(age_shift),
            "income": rng.normal(55000, 9000, n),
            "country": rng.choice(["France", "Peru", "Japan"], n),
            "prediction": rng.uniform(0, 1, n),
        }
    )


@pytest.fixture(scope="module")
def schema():
    import tensorflow_data_validation as tfdv

    return tfdv.infer_schema(window_statistics(frame(2000, 0), ["age", "income", "country"]))


def test_shifted_feature_alone_exceeds_skew_and_drift(schema) -> None:
    mon = MonitoringSection()
    training = window_statistics(frame(2000, 0), ["age", "income", "country"])
    shifted = frame(800, 1, age_shift=15)
    skew = skew_rows(schema, training, window_statistics(shifted, ["age", "income", "country"]), "clicked", mon)
    assert {r["feature"] for r in skew} == {"age", "income", "country"}
    assert [r["feature"] for r in skew if r["exceeded"]] == ["age"]
    previous = window_statistics(frame(800, 2), ["age", "income", "country", "prediction"])
    current = window_statistics(shifted, ["age", "income", "country", "prediction"])
    drift = drift_rows(schema, current, previous, "clicked", mon)
    assert "prediction" in {r["feature"] for r in drift}
    assert [r["feature"] for r in drift if r["exceeded"]] == ["age"]
    measure = {r["feature"]: r["measure"] for r in drift}
    assert measure["country"] == "L-infinity" and measure["income"] == "Jensen-Shannon"


def test_unshifted_is_within_and_a_per_feature_bound_wins(schema) -> None:
    training = window_statistics(frame(2000, 0), ["age", "income", "country"])
    served = window_statistics(frame(800, 3), ["age", "income", "country"])
    assert not [r for r in skew_rows(schema, training, served, "clicked", MonitoringSection()) if r["exceeded"]]
    strict = MonitoringSection(features={"country": 1e-9})
    rows = skew_rows(schema, training, served, "clicked", strict)
    assert [(r["feature"], r["threshold"]) for r in rows if r["exceeded"]] == [("country", 1e-9)]


def test_one_window_statistics_serve_skew_without_the_prediction(schema) -> None:
    from pipelines.monitoring.compare import without

    mon = MonitoringSection()
    training = window_statistics(frame(2000, 0), ["age", "income", "country"])
    shifted = frame(800, 1, age_shift=15)
    both = window_statistics(shifted, ["age", "income", "country", "prediction"])
    features = without(both, "prediction")
    assert [f.path.step[0] for f in features.datasets[0].features] == ["age", "income", "country"]
    assert len(both.datasets[0].features) == 4  # the original is left as it was
    alone = window_statistics(shifted, ["age", "income", "country"])
    assert skew_rows(schema, training, features, "clicked", mon) == skew_rows(schema, training, alone, "clicked", mon)
