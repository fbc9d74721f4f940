"""The validation gate: stop the run before training when the data has blocking anomalies.

TFX's ExampleValidator records anomalies and lets the pipeline carry on. This
component reads them (and checks drift against the data of the last run that
passed, and optionally training/serving skew), decides with the configured policy,
writes a verdict artifact, and raises ``DataBlocked`` when the data must not be
trained on, so nothing downstream runs and nothing is pushed.

The decision itself (``decide``) is pure and tested without TFX.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

SEVERITY_RANK = {"WARNING": 1, "ERROR": 2, "UNKNOWN": 2}
BLOCK_AT = {"warning": 1, "error": 2, "never": 99}
DRIFT_KINDS = {"COMPARATOR_L_INFTY_HIGH", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}
VERDICT_FILE = "verdict.json"


class DataBlocked(RuntimeError):
    """Raised by the gate; carries the verdict (JSON) so the CLI can report it without a traceback."""

    def __init__(self, verdict: dict[str, Any]) -> None:
        self.verdict = verdict
        blocking = [a for a in verdict["anomalies"] if a["blocking"]]
        names = ", ".join(sorted({f"{a['feature']} ({a['kind']})" for a in blocking}))
        super().__init__(f"data blocked by {len(blocking)} anomalies: {names}")


@dataclass
class Finding:
    split: str
    feature: str
    kind: str
    severity: str
    description: str
    fix: str
    blocking: bool = False
    allowed: bool = False


def fix_for(kind: str, feature: str, schema_path: str | None, label: str | None = None) -> str:
    """What to change: the schema field to relax, the config key, or the data to correct."""
    schema = schema_path or "the schema"
    where = f"feature '{feature}' in {schema}"
    kinds = set(kind.split(","))
    if feature == label and kinds & {"INT_TYPE_BIG_INT", "INT_TYPE_SMALL_INT", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"}:
        return f"'{feature}' is the label and must stay in its domain (0 or 1): correct or remove those rows"
    if kinds & {"SCHEMA_MISSING_COLUMN", "FEATURE_TYPE_NOT_PRESENT"}:
        return f"the data has no '{feature}': restore the column, or remove it from {schema} and the config's features"
    if "SCHEMA_NEW_COLUMN" in kinds:
        return f"'{feature}' is not in {schema}: remove it from the data, or add it to the schema and features"
    if kinds & {"FEATURE_TYPE_LOW_FRACTION_PRESENT", "FEATURE_TYPE_LOW_NUMBER_PRESENT"}:
        return (f"fill the missing values of '{feature}', or lower presence.min_fraction of {where}, "
                f"or allow it: validation.allow.{feature}: [missing_values]")
    if "INVALID_FEATURE_SHAPE" in kinds:
        return (f"some rows have no value for '{feature}': fill them, or drop `shape` from {where} to make it "
                f"optional (the transform then imputes the training mean)")
    if kinds & {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}:
        return (f"correct the values, or add them to the domain of {where} (or lower its "
                f"distribution_constraints.min_domain_mass), or allow: validation.allow.{feature}: [new_values]")
    if kinds & {"INT_TYPE_BIG_INT", "INT_TYPE_SMALL_INT", "FLOAT_TYPE_BIG_FLOAT", "FLOAT_TYPE_SMALL_FLOAT"}:
        return f"correct the out-of-range values, or widen int_domain/float_domain min/max of {where}"
    if any(k.endswith(("_NOT_FLOAT", "STRING_NOT_FLOAT", "NOT_INT", "INT_STRING", "STRING_EXPECTED", "INT_EXPECTED",
                       "NOW_FLOAT", "NOW_INT", "NON_STRING", "NOT_STRING", "UNKNOWN_TYPE_NUMBER"))
           or k.startswith(("FLOAT_TYPE_", "INT_TYPE_", "STRING_TYPE_")) for k in kinds):
        return f"'{feature}' holds values of the wrong type: correct the data, or change the type of {where}"
    if kinds & DRIFT_KINDS:
        return (f"check the new data of '{feature}' against the previous span; if the change is real, raise "
                f"validation.drift.features.{feature} or rerun with validation.allow.{feature}: [drift]")
    if "SCHEMA_TRAINING_SERVING_SKEW" in kinds:
        return f"serving data differs from training data for '{feature}': fix the serving logs or retrain"
    if kinds & {"FLOAT_TYPE_HAS_NAN", "FLOAT_TYPE_HAS_INF"}:
        return f"remove NaN/inf values of '{feature}' from the data, or allow them in the float_domain of {where}"
    if kinds & {"FEATURE_TYPE_HIGH_NUMBER_VALUES", "FEATURE_TYPE_LOW_NUMBER_VALUES", "FEATURE_TYPE_UNEXPECTED_REPEATED"}:
        return f"rows carry the wrong number of values for '{feature}': fix the data, or change value_count of {where}"
    if any(k.endswith("_NUM_EXAMPLES") or k == "NO_DATA_IN_SPAN" for k in kinds):
        return f"the number of examples is not what {schema} expects: check the input files or its dataset_constraints"
    return f"correct the data of '{feature}', or relax {where}"


def decide(findings: list[Finding], policy: dict[str, Any]) -> bool:
    """Mark each finding blocking or allowed; True when the data may pass."""
    threshold = BLOCK_AT[policy.get("block_on", "error")]
    allow = {f: set(kinds) for f, kinds in policy.get("allow", {}).items()}
    for f in findings:
        kinds = set(f.kind.split(","))
        f.allowed = bool(kinds) and kinds <= allow.get(f.feature, set())
        f.blocking = not f.allowed and SEVERITY_RANK.get(f.severity, 2) >= threshold
    return not any(f.blocking for f in findings)


def findings_from_anomalies(anomalies: Any, split: str, schema_path: str | None,
                            label: str | None = None) -> list[Finding]:
    """Findings from a tensorflow_metadata Anomalies proto."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    out = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        kind = ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE"
        severity = anomalies_pb2.AnomalyInfo.Severity.Name(info.severity)
        description = info.description or info.short_description
        out.append(Finding(split, feature, kind, severity, description, fix_for(kind, feature, schema_path, label)))
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        kind = ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE"
        out.append(Finding(split, "(dataset)", kind, anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                           info.description, "check the number of examples in the new data"))
    return out


def merge_splits(findings: list[Finding]) -> list[Finding]:
    """One finding per (feature, kind), naming every split it was seen in."""
    merged: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.feature, f.kind)
        if key in merged:
            if f.split not in merged[key].split.split(","):
                merged[key].split += f",{f.split}"
        else:
            merged[key] = Finding(**asdict(f))
    return list(merged.values())


def read_anomalies(uri: str, schema_path: str | None = None, label: str | None = None) -> list[Finding]:
    """Findings from an ExampleAnomalies artifact folder (``Split-*/SchemaDiff.pb``), merged across splits."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = []
    for name in sorted(os.listdir(uri)):
        path = os.path.join(uri, name, "SchemaDiff.pb")
        if os.path.exists(path):
            anomalies = anomalies_pb2.Anomalies()
            with open(path, "rb") as fh:
                anomalies.ParseFromString(fh.read())
            found += findings_from_anomalies(anomalies, name.removeprefix("Split-"), schema_path, label)
    return merge_splits(found)


def _load_stats(uri: str, split: str) -> Any:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    with open(os.path.join(uri, f"Split-{split}", "FeatureStats.pb"), "rb") as fh:
        stats.ParseFromString(fh.read())
    return stats


def _is_categorical(feature: Any) -> bool:
    from tensorflow_metadata.proto.v0 import schema_pb2

    if feature.type == schema_pb2.BYTES:
        return True
    return feature.HasField("int_domain") and feature.int_domain.is_categorical


def comparisons(schema: Any, current: Any, policy: dict[str, Any], *, previous: Any = None,
                serving: Any = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drift (vs ``previous``) and skew (vs ``serving``) per feature, TFDV's own measures.

    Returns (drift rows, skew rows): ``{feature, measure, value, threshold, exceeded}``.
    """
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    drift_cfg = policy.get("drift", {})
    per_feature = drift_cfg.get("features", {})
    schema = type(schema).FromString(schema.SerializeToString())
    label = policy.get("label")
    for feature in schema.feature:
        if feature.name == label:
            continue
        categorical = _is_categorical(feature)
        if previous is not None:
            bound = per_feature.get(feature.name, drift_cfg.get(
                "categorical_threshold" if categorical else "numeric_threshold", 0.1))
            target = feature.drift_comparator
            (target.infinity_norm if categorical else target.jensen_shannon_divergence).threshold = bound
        if serving is not None:
            bound = policy.get("skew", {}).get("threshold", 0.1)
            target = feature.skew_comparator
            (target.infinity_norm if categorical else target.jensen_shannon_divergence).threshold = bound
    return drift_skew_rows(
        tfdv.validate_statistics(current, schema, previous_statistics=previous, serving_statistics=serving))


def drift_skew_rows(anomalies: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """TFDV's recorded measurements (``drift_skew_info``) as (drift rows, skew rows)."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    kind = anomalies_pb2.DriftSkewInfo.Measurement
    names = {kind.L_INFTY: "L-infinity", kind.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon",
             kind.NORMALIZED_ABSOLUTE_DIFFERENCE: "normalized absolute difference"}
    drift: list[dict[str, Any]] = []
    skew: list[dict[str, Any]] = []
    for info in anomalies.drift_skew_info:
        feature = ".".join(info.path.step)
        for rows, measurements in ((drift, info.drift_measurements), (skew, info.skew_measurements)):
            for m in measurements:
                rows.append({"feature": feature, "measure": names.get(m.type, str(m.type)), "value": m.value,
                             "threshold": m.threshold, "exceeded": m.value > m.threshold})
    return drift, skew


def evaluate(anomalies_uri: str, policy: dict[str, Any], *, statistics_uri: str | None = None,
             schema_uri: str | None = None, baseline_statistics_uri: str | None = None) -> dict[str, Any]:
    """The gate's whole decision from artifact directories; returns the verdict as a dict."""
    schema_path = policy.get("schema_path")
    findings = read_anomalies(anomalies_uri, schema_path, policy.get("label"))
    drift: list[dict[str, Any]] = []
    skew: list[dict[str, Any]] = []
    if statistics_uri and schema_uri and (baseline_statistics_uri or policy.get("skew_data")):
        import tensorflow_data_validation as tfdv

        schema = tfdv.load_schema_text(os.path.join(schema_uri, "schema.pbtxt"))
        current = _load_stats(statistics_uri, "train")
        previous = _load_stats(baseline_statistics_uri, "train") if baseline_statistics_uri else None
        serving = None
        if policy.get("skew_data"):
            serving = tfdv.generate_statistics_from_csv(
                policy["skew_data"], stats_options=tfdv.StatsOptions(schema=schema, infer_type_from_schema=True))
        drift, skew = comparisons(schema, current, policy, previous=previous, serving=serving)
        for row in drift:
            if row["exceeded"]:
                kind = "COMPARATOR_L_INFTY_HIGH" if row["measure"] == "L-infinity" else \
                    "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"
                findings.append(Finding(
                    "train", row["feature"], kind, "ERROR",
                    f"{row['measure']} drift {row['value']:.4g} versus the previous data is above {row['threshold']:g}",
                    fix_for(kind, row["feature"], schema_path)))
        for row in skew:
            if row["exceeded"]:
                findings.append(Finding(
                    "train", row["feature"], "SCHEMA_TRAINING_SERVING_SKEW", "ERROR",
                    f"{row['measure']} skew {row['value']:.4g} between training and serving data is above "
                    f"{row['threshold']:g}", fix_for("SCHEMA_TRAINING_SERVING_SKEW", row["feature"], schema_path)))
    passed = decide(findings, policy)
    return {
        "gate": policy.get("gate", "data"),
        "passed": passed,
        "anomalies": [asdict(f) for f in findings],
        "drift": drift,
        "skew": skew,
        "baseline_statistics": baseline_statistics_uri,
    }


def write_verdict(uri: str, verdict: dict[str, Any]) -> None:
    os.makedirs(uri, exist_ok=True)
    tmp = os.path.join(uri, VERDICT_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(verdict, fh, indent=2)
    os.replace(tmp, os.path.join(uri, VERDICT_FILE))
