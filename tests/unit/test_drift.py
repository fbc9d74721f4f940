"""Drift and skew with TFDV's own measures, on small real statistics (no pipeline)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # imports TFDV (~15 s)


@pytest.fixture(scope="module")
def stats():
    import pandas as pd
    import tensorflow_data_validation as tfdv

    rng = np.random.default_rng(0)

    def frame(scale: float, countries: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {"income": rng.normal(50_000, 10_000, 2000) * scale, "country": rng.choice(countries, 2000)}
        )

    base = tfdv.generate_statistics_from_dataframe(frame(1.0, ["DE", "FR", "IT"]))
    same = tfdv.generate_statistics_from_dataframe(frame(1.0, ["DE", "FR", "IT"]))
    shifted = tfdv.generate_statistics_from_dataframe(frame(1000.0, ["DE", "DE", "DE", "FR"]))
    schema = tfdv.infer_schema(base)
    return schema, base, same, shifted


POLICY = {"drift": {"categorical_threshold": 0.1, "numeric_threshold": 0.1, "features": {}}, "skew": {"threshold": 0.1}}


def test_no_drift_between_samples_of_the_same_data(stats) -> None:
    from components.gate import comparisons

    schema, base, same, _ = stats
    drift, skew = comparisons(schema, same, POLICY, previous=base)
    assert {d["feature"]: d["measure"] for d in drift} == {"income": "Jensen-Shannon", "country": "L-infinity"}
    assert not any(d["exceeded"] for d in drift) and skew == []


def test_drift_and_skew_are_measured_and_flagged(stats) -> None:
    from components.gate import comparisons

    schema, base, _, shifted = stats
    drift, skew = comparisons(schema, shifted, POLICY, previous=base, serving=base)
    assert {d["feature"] for d in drift if d["exceeded"]} == {"income", "country"}
    assert {s["feature"] for s in skew if s["exceeded"]} == {"income", "country"}
    per_feature = {**POLICY, "drift": {**POLICY["drift"], "features": {"country": 0.9}}}
    drift, _ = comparisons(schema, shifted, per_feature, previous=base)
    assert {d["feature"] for d in drift if d["exceeded"]} == {"income"}  # a per-feature bound wins


def test_skew_reads_serving_logs_as_examplegen_does(tmp_path) -> None:
    """Serving-log CSVs go through the pipeline's own reader: a BOM and NA cells neither crash the
    skew check nor turn a numeric column into text; a shifted serving column is flagged."""
    import tensorflow_data_validation as tfdv

    from components.csv_statistics import csv_statistics
    from components.gate import comparisons

    rng = np.random.default_rng(1)

    def write(name: str, scale: float, countries: list[str]) -> str:
        rows = ["\ufeffincome,country"]
        for i in range(1500):
            income = "NA" if i % 50 == 0 else f"{rng.normal(50_000, 10_000) * scale:.2f}"
            rows.append(f"{income},{rng.choice(countries)}")
        path = tmp_path / name
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return str(path)

    training = csv_statistics([write("train.csv", 1.0, ["DE", "FR", "IT"])])
    serving = csv_statistics([write("serving.csv", 1000.0, ["DE", "DE", "DE", "FR"])])
    schema = tfdv.infer_schema(training)
    from tensorflow_metadata.proto.v0 import schema_pb2

    assert {f.name: f.type for f in schema.feature} == {"income": schema_pb2.FLOAT, "country": schema_pb2.BYTES}
    _, skew = comparisons(schema, training, POLICY, serving=serving)
    assert {s["feature"] for s in skew if s["exceeded"]} == {"income", "country"}
