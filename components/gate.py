"""The validation gate: stop the run before training when the data has blocking anomalies.

TFX's ExampleValidator records anomalies and lets the pipeline carry on. This
component reads them (and checks drift against the data of the last run that
passed, and optionally training/serving skew), decides with the configured policy,
and records a verdict artifact (``verdict.json`` plus a ``passed`` property). The
gate's check node (``components.validation_gate.StopIfBlocked``) reads the verdict and
raises ``DataBlocked`` when the data must not be trained on, so nothing downstream runs
and nothing is pushed, while the verdict stays published in ML Metadata for the CLI.

The decision itself (``decide``) is pure and tested without TFX; the fix hints live in
``components.fix_hints`` and the drift/skew measures in ``components.drift``. Every file
goes through ``components.filesystem``, so artifact folders may be remote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from components import filesystem as fs
from components.drift import comparisons, drift_skew_rows, load_stats
from components.fix_hints import DRIFT_KINDS, feature_types, fix_for

__all__ = [
    "DRIFT_KINDS",
    "VERDICT_FILE",
    "DataBlocked",
    "Finding",
    "Policy",
    "comparisons",
    "decide",
    "drift_skew_rows",
    "evaluate",
    "findings_from_anomalies",
    "fix_for",
    "merge_splits",
    "policy_from_parameters",
    "read_anomalies",
    "read_verdict",
    "write_verdict",
]

SEVERITY_RANK = {"WARNING": 1, "ERROR": 2, "UNKNOWN": 2}
BLOCK_AT = {"warning": 1, "error": 2, "never": 99}
VERDICT_FILE = "verdict.json"


class Policy(TypedDict, total=False):
    """The gate's settings, built from the component's typed parameters (:func:`policy_from_parameters`)."""

    gate: str  # data | transform
    block_on: str  # error | warning | never
    allow: dict[str, list[str]]  # feature -> tolerated anomaly kinds
    schema_path: str | None  # the curated schema, named in fix hints
    label: str | None  # the label column
    task: str  # binary | multiclass | regression: how fix hints word the label's domain
    classes: list[str]  # multiclass: every label value
    positive: str | None  # binary: the positive label value when it is not 1
    drift: dict[str, Any]  # categorical_threshold, numeric_threshold, features: {feature: bound}
    skew: dict[str, float]  # threshold
    skew_data: str  # glob of serving-log CSV files
    images: dict[str, float]  # image column -> the fraction of bad images that blocks (components.image_checks)


def policy_from_parameters(
    *,
    gate: str,
    block_on: str,
    allow: dict[str, list[str]],
    label: str,
    task: str,
    classes: Sequence[str] | None = None,
    positive: str | None = None,
    schema_path: str | None = None,
    drift_categorical_threshold: float | None = None,
    drift_numeric_threshold: float | None = None,
    drift_features: dict[str, float] | None = None,
    skew_threshold: float | None = None,
    skew_data: str | None = None,
    image_features: dict[str, float] | None = None,
) -> Policy:
    """The gate's :class:`Policy` from the ValidationGate component's typed parameters (same names).

    Drift is checked when both drift thresholds are given (the data gate), skew when ``skew_data`` is.

    Example:
        >>> policy_from_parameters(gate="data", block_on="error", allow={}, label="y", task="binary")["block_on"]
        'error'
    """
    policy: Policy = {
        "gate": gate,
        "block_on": block_on,
        "allow": {f: list(k) for f, k in allow.items()},
        "schema_path": schema_path,
        "label": label,
        "task": task,
        "classes": list(classes or []),
        "positive": positive,
    }
    if drift_categorical_threshold is not None and drift_numeric_threshold is not None:
        policy["drift"] = {
            "categorical_threshold": drift_categorical_threshold,
            "numeric_threshold": drift_numeric_threshold,
            "features": dict(drift_features or {}),
        }
    if skew_data:
        policy["skew"] = {"threshold": skew_threshold if skew_threshold is not None else 0.1}
        policy["skew_data"] = skew_data
    if image_features:
        policy["images"] = dict(image_features)
    return policy


class DataBlocked(RuntimeError):  # noqa: N818 - pipelines.errors.DataBlockedError is the CLI's error
    """Raised by the gate's check node to stop the run; the verdict it carries is also published as an artifact."""

    def __init__(self, verdict: dict[str, Any]) -> None:
        self.verdict = verdict
        blocking = [a for a in verdict["anomalies"] if a["blocking"]]
        names = ", ".join(sorted({f"{a['feature']} ({a['kind']})" for a in blocking}))
        count = f"{len(blocking)} anomal{'y' if len(blocking) == 1 else 'ies'}"
        super().__init__(f"data blocked by {count}: {names}")


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


def decide(findings: list[Finding], policy: dict[str, Any]) -> bool:
    """Mark each finding blocking or allowed; True when the data may pass."""
    threshold = BLOCK_AT[policy.get("block_on", "error")]
    allow = {f: set(kinds) for f, kinds in policy.get("allow", {}).items()}
    for f in findings:
        kinds = set(f.kind.split(","))
        f.allowed = bool(kinds) and kinds <= allow.get(f.feature, set())
        f.blocking = not f.allowed and SEVERITY_RANK.get(f.severity, 2) >= threshold
    return not any(f.blocking for f in findings)


def findings_from_anomalies(
    anomalies: Any,
    split: str,
    schema_path: str | None,
    label: str | None = None,
    *,
    task: str = "binary",
    classes: Sequence[str] | None = None,
    positive: str | None = None,
) -> list[Finding]:
    """Findings from a tensorflow_metadata Anomalies proto (the label described as in :func:`fix_for`).

    Each feature's type, which the fix hints word what a missing value becomes by, is read from the
    schema the anomalies were found against (``anomalies.baseline``, written by ExampleValidator).
    """
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    types = feature_types(anomalies.baseline)
    out = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        kind = ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE"
        severity = anomalies_pb2.AnomalyInfo.Severity.Name(info.severity)
        description = info.description or info.short_description
        fix = fix_for(
            kind,
            feature,
            schema_path,
            label,
            task=task,
            classes=classes,
            positive=positive,
            feature_type=types.get(feature),
        )
        out.append(Finding(split, feature, kind, severity, description, fix))
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        kind = ",".join(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason) or "UNKNOWN_TYPE"
        out.append(
            Finding(
                split,
                "(dataset)",
                kind,
                anomalies_pb2.AnomalyInfo.Severity.Name(info.severity),
                info.description,
                "check the number of examples in the new data",
            )
        )
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


def read_anomalies(uri: str, policy: Policy | None = None) -> list[Finding]:
    """Findings from an ExampleAnomalies artifact folder (``Split-*/SchemaDiff.pb``), merged across splits.

    ``policy`` supplies what the fix hints name: ``schema_path`` and the label (``label``, ``task``,
    ``classes``, ``positive``).
    """
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    policy = policy or {}
    found = []
    for name in fs.listdir(uri):
        path = fs.join(uri, name, "SchemaDiff.pb")
        if fs.exists(path):
            anomalies = anomalies_pb2.Anomalies()
            anomalies.ParseFromString(fs.read_bytes(path))
            found += findings_from_anomalies(
                anomalies,
                name.removeprefix("Split-"),
                policy.get("schema_path"),
                policy.get("label"),
                task=policy.get("task", "binary"),
                classes=policy.get("classes"),
                positive=policy.get("positive"),
            )
    return merge_splits(found)


def evaluate(
    anomalies_uri: str,
    policy: Policy,
    *,
    statistics_uri: str | None = None,
    schema_uri: str | None = None,
    baseline_statistics_uri: str | None = None,
    examples_uri: str | None = None,
) -> dict[str, Any]:
    """The gate's whole decision from artifact directories; returns the verdict as a dict.

    ``examples_uri``: ExampleGen's output, whose image report (``components.image_checks``) is
    checked against ``policy["images"]``.
    """
    schema_path = policy.get("schema_path")
    findings = read_anomalies(anomalies_uri, policy)
    images: dict[str, Any] = {}
    if examples_uri and policy.get("images"):
        from components.image_checks import image_findings, read_image_report

        images = read_image_report(examples_uri)
        findings += [Finding(**f) for f in image_findings(images, policy["images"])]
    drift: list[dict[str, Any]] = []
    skew: list[dict[str, Any]] = []
    if statistics_uri and schema_uri and (baseline_statistics_uri or policy.get("skew_data")):
        from components.schema_file import read_schema

        schema = read_schema(fs.join(schema_uri, "schema.pbtxt"))
        current = load_stats(statistics_uri, "train")
        previous = load_stats(baseline_statistics_uri, "train") if baseline_statistics_uri else None
        serving = None
        if policy.get("skew_data"):
            from components.csv_statistics import csv_statistics

            serving = csv_statistics(fs.glob(policy["skew_data"]))
        drift, skew = comparisons(schema, current, policy, previous=previous, serving=serving)
        for row in drift:
            if row["exceeded"]:
                kind = (
                    "COMPARATOR_L_INFTY_HIGH"
                    if row["measure"] == "L-infinity"
                    else "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"
                )
                findings.append(
                    Finding(
                        "train",
                        row["feature"],
                        kind,
                        "ERROR",
                        f"{row['measure']} drift {row['value']:.4g} versus the previous data "
                        f"is above {row['threshold']:g}",
                        fix_for(kind, row["feature"], schema_path),
                    )
                )
        for row in skew:
            if row["exceeded"]:
                findings.append(
                    Finding(
                        "train",
                        row["feature"],
                        "SCHEMA_TRAINING_SERVING_SKEW",
                        "ERROR",
                        f"{row['measure']} skew {row['value']:.4g} between training and serving data is above "
                        f"{row['threshold']:g}",
                        fix_for("SCHEMA_TRAINING_SERVING_SKEW", row["feature"], schema_path),
                    )
                )
    passed = decide(findings, policy)
    return {
        "gate": policy.get("gate", "data"),
        "passed": passed,
        "anomalies": [asdict(f) for f in findings],
        "drift": drift,
        "skew": skew,
        "baseline_statistics": baseline_statistics_uri,
        **({"images": images} if images else {}),
    }


def write_verdict(uri: str, verdict: dict[str, Any]) -> None:
    """Write ``verdict.json`` into the ValidationVerdict artifact folder ``uri`` (atomically)."""
    fs.write_text(fs.join(uri, VERDICT_FILE), json.dumps(verdict, indent=2))


def read_verdict(uri: str) -> dict[str, Any]:
    """The verdict a gate recorded in the ValidationVerdict artifact folder ``uri``.

    Raises:
        FileNotFoundError: the folder has no ``verdict.json`` (not a gate's verdict artifact).
    """
    return json.loads(fs.read_text(fs.join(uri, VERDICT_FILE)))
