"""Skew and drift of served inputs, measured by TFDV as the validation gate measures them.

Statistics of a window's inputs (and predictions) come from ``tfdv.generate_statistics_from_dataframe``;
the distances come from :func:`components.drift.comparisons` (TFDV's own ``skew_comparator`` /
``drift_comparator``: L-infinity for categorical features, Jensen-Shannon for numeric ones).
Each row is then judged against the ``monitoring`` bounds (a per-feature bound wins).
"""

from __future__ import annotations

from typing import Any

from pipelines.config.monitoring import MonitoringSection
from pipelines.monitoring.logs import PREDICTION

__all__ = ["drift_rows", "skew_rows", "window_statistics", "without"]


def window_statistics(frame: Any, columns: list[str]) -> Any:
    """TFDV statistics (``DatasetFeatureStatisticsList``) of ``columns`` of a window's rows."""
    import tensorflow_data_validation as tfdv

    data = frame[[c for c in columns if c in frame.columns]].copy()
    for name in data.columns:
        if data[name].dtype == object:  # strings (None stays missing)
            data[name] = data[name].where(data[name].isna(), data[name].astype(str))
    return tfdv.generate_statistics_from_dataframe(data, n_jobs=1)


def without(statistics: Any, name: str) -> Any:
    """A copy of ``statistics`` without feature ``name`` (one window's statistics serve drift and skew)."""
    out = type(statistics).FromString(statistics.SerializeToString())
    for dataset in out.datasets:
        kept = [f for f in dataset.features if f.path.step[:1] != [name] and f.name != name]
        del dataset.features[:]
        dataset.features.extend(kept)
    return out


def _judged(rows: list[dict[str, Any]], bound: float, monitoring: MonitoringSection) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        threshold = monitoring.features.get(row["feature"], bound)
        out.append({**row, "threshold": threshold, "exceeded": row["value"] > threshold})
    return out


def skew_rows(schema: Any, training: Any, serving: Any, label: str, monitoring: MonitoringSection) -> list[dict]:
    """Per feature: the served window vs the version's training statistics."""
    from components.drift import comparisons

    policy = {"label": label, "skew": {"threshold": monitoring.skew_threshold}}
    _, rows = comparisons(schema, training, policy, serving=serving)
    return _judged(rows, monitoring.skew_threshold, monitoring)


def _with_prediction(schema: Any) -> Any:
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = type(schema).FromString(schema.SerializeToString())
    schema.feature.add(name=PREDICTION, type=schema_pb2.FLOAT)
    return schema


def drift_rows(schema: Any, current: Any, previous: Any, label: str, monitoring: MonitoringSection) -> list[dict]:
    """Per feature and for the prediction: the window vs the previous window."""
    from components.drift import comparisons

    drift = {
        "categorical_threshold": monitoring.categorical_threshold,
        "numeric_threshold": monitoring.numeric_threshold,
        "features": dict(monitoring.features),
    }
    rows, _ = comparisons(_with_prediction(schema), current, {"label": label, "drift": drift}, previous=previous)
    return rows  # thresholds already per feature (comparisons sets them from ``drift``)
