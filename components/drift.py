"""Drift (against the last data that passed) and training/serving skew, measured by TFDV itself.

``comparisons`` sets TFDV's own ``drift_comparator`` / ``skew_comparator`` bounds on a copy of the
schema and lets ``tfdv.validate_statistics`` measure (L-infinity for categorical features,
Jensen-Shannon for numeric ones); ``drift_skew_rows`` reads the measurements back as rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import filesystem as fs

__all__ = ["comparisons", "drift_skew_rows", "load_stats"]


def load_stats(uri: str, split: str) -> Any:
    """One split's statistics from an ExampleStatistics artifact folder."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    stats.ParseFromString(fs.read_bytes(fs.join(uri, f"Split-{split}", "FeatureStats.pb")))
    return stats


def _is_categorical(feature: Any) -> bool:
    from tensorflow_metadata.proto.v0 import schema_pb2

    if feature.type == schema_pb2.BYTES:
        return True
    return feature.HasField("int_domain") and feature.int_domain.is_categorical


def comparisons(
    schema: Any, current: Any, policy: Mapping[str, Any], *, previous: Any = None, serving: Any = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drift (vs ``previous``) and skew (vs ``serving``) per feature, TFDV's own measures.

    Returns (drift rows, skew rows): ``{feature, measure, value, threshold, exceeded}``.
    """
    import tensorflow_data_validation as tfdv

    drift_cfg = policy.get("drift", {})
    per_feature = drift_cfg.get("features", {})
    schema = type(schema).FromString(schema.SerializeToString())
    label = policy.get("label")
    for feature in schema.feature:
        if feature.name == label:
            continue
        categorical = _is_categorical(feature)
        if previous is not None:
            bound = per_feature.get(
                feature.name, drift_cfg.get("categorical_threshold" if categorical else "numeric_threshold", 0.1)
            )
            target = feature.drift_comparator
            (target.infinity_norm if categorical else target.jensen_shannon_divergence).threshold = bound
        if serving is not None:
            bound = policy.get("skew", {}).get("threshold", 0.1)
            target = feature.skew_comparator
            (target.infinity_norm if categorical else target.jensen_shannon_divergence).threshold = bound
    return drift_skew_rows(
        tfdv.validate_statistics(current, schema, previous_statistics=previous, serving_statistics=serving)
    )


def drift_skew_rows(anomalies: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """TFDV's recorded measurements (``drift_skew_info``) as (drift rows, skew rows)."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    kind = anomalies_pb2.DriftSkewInfo.Measurement
    names = {
        kind.L_INFTY: "L-infinity",
        kind.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon",
        kind.NORMALIZED_ABSOLUTE_DIFFERENCE: "normalized absolute difference",
    }
    drift: list[dict[str, Any]] = []
    skew: list[dict[str, Any]] = []
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for rows, measurements in ((drift, info.drift_measurements), (skew, info.skew_measurements)):
            for m in measurements:
                rows.append(
                    {
                        "feature": feature,
                        "measure": names.get(m.type, str(m.type)),
                        "value": m.value,
                        "threshold": m.threshold,
                        "exceeded": m.value > m.threshold,
                    }
                )
    return drift, skew
