"""The validation gate's typed parameters and task-aware fix hints (no TFX).

Decisions and the other hints are in ``test_validation.py``; drift measures in ``test_drift.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.gate import (
    DataBlocked,
    Finding,
    decide,
    findings_from_anomalies,
    fix_for,
    policy_from_parameters,
    read_verdict,
    write_verdict,
)
from pipelines.build import gate_parameters
from pipelines.config import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "ad_click.yaml"
MULTICLASS = [
    "label.task=multiclass",
    "label.classes=[heron, ibis, stork]",
    "evaluation.metrics=[accuracy]",
    "evaluation.thresholds={}",
]


@pytest.mark.parametrize(
    ("kind", "task", "extra", "needles", "absent"),
    [
        ("INT_TYPE_BIG_INT", "binary", {}, ["is the label", "(0 or 1)", "correct or remove those rows"], []),
        (
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "binary",
            {"positive": "Yes"},
            ["'Yes' (label.positive)", "one other class"],
            ["0 or 1"],
        ),
        (
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "multiclass",
            {"classes": ["heron", "ibis", "stork"]},
            ["one of its classes (heron, ibis, stork)", "label.classes"],
            ["0 or 1"],
        ),
        ("INT_TYPE_BIG_INT", "multiclass", {"classes": ["0", "1", "2"]}, ["one of its classes (0, 1, 2)"], ["0 or 1"]),
        ("FLOAT_TYPE_BIG_FLOAT", "regression", {}, ["a number", "widen int_domain/float_domain"], ["0 or 1"]),
        (
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "regression",
            {},
            ["regression and must be a number"],
            ["0 or 1", "classes"],
        ),
    ],
)
def test_label_fix_is_worded_for_the_task(
    kind: str, task: str, extra: dict, needles: list[str], absent: list[str]
) -> None:
    fix = fix_for(kind, "y", "schemas/x/schema.pbtxt", "y", task=task, **extra)
    for needle in needles:
        assert needle in fix, fix
    for word in absent:
        assert word not in fix, fix


def test_a_feature_that_is_not_the_label_gets_the_feature_fix() -> None:
    fix = fix_for("INT_TYPE_BIG_INT", "age", "schemas/x/schema.pbtxt", "y", task="multiclass", classes=["a", "b"])
    assert "int_domain/float_domain" in fix and "label" not in fix


def test_gate_parameters_are_typed_values() -> None:
    config = load_config(CONFIG, ["validation.allow={city: [new_values]}", "validation.drift.features={age: 0.05}"])
    data = gate_parameters(config, "data")
    assert data["allow"] == {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}  # an alias expanded, a list
    assert data["drift_features"] == {"age": 0.05}
    assert isinstance(data["drift_numeric_threshold"], float)
    assert data["task"] == "binary" and "classes" not in data and "positive" not in data
    assert not any(isinstance(v, str) and v.lstrip().startswith("{") for v in data.values())  # no JSON text
    transform = gate_parameters(config, "transform")
    assert transform["gate"] == "transform"
    assert not {k for k in transform if k.startswith(("drift_", "skew_"))}  # drift is the data gate's


def test_policy_from_the_parameters_drives_the_decision_and_the_hints(tmp_path: Path) -> None:
    config = load_config(CONFIG, MULTICLASS)
    policy = policy_from_parameters(**gate_parameters(config, "data"))
    assert policy["task"] == "multiclass" and policy["classes"] == ["heron", "ibis", "stork"]
    assert policy["drift"] == {"categorical_threshold": 0.1, "numeric_threshold": 0.1, "features": {}}
    assert "skew" not in policy
    findings = [Finding("train", "age", "X", "WARNING", "d", "f")]
    assert decide(findings, policy) is True  # block_on: error lets a warning through
    hint = fix_for(
        "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
        "clicked_on_ad",
        policy["schema_path"],
        policy["label"],
        task=policy["task"],
        classes=policy["classes"],
    )
    assert "heron, ibis, stork" in hint and "0 or 1" not in hint


def test_skew_parameters_only_with_serving_data(tmp_path: Path) -> None:
    config = load_config(CONFIG, [f"validation.skew.serving_data={tmp_path}", "validation.skew.threshold=0.2"])
    params = gate_parameters(config, "data")
    assert params["skew_threshold"] == 0.2 and params["skew_data"] == str(tmp_path / "*.csv")
    assert policy_from_parameters(**params)["skew"] == {"threshold": 0.2}


def test_verdict_round_trip_is_atomic(tmp_path: Path) -> None:
    verdict = {"gate": "data", "passed": False, "anomalies": [{"feature": "age"}]}
    write_verdict(str(tmp_path / "v"), verdict)
    assert read_verdict(str(tmp_path / "v")) == verdict
    assert [p.name for p in (tmp_path / "v").iterdir()] == ["verdict.json"]  # no temporary file left
    assert json.loads((tmp_path / "v" / "verdict.json").read_text())["passed"] is False


def _shape_anomaly(schema_text: str, feature: str) -> list[Finding]:
    """The gate's findings for one INVALID_FEATURE_SHAPE anomaly found against ``schema_text``."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    anomalies = anomalies_pb2.Anomalies()
    text_format.Parse(schema_text, anomalies.baseline)
    info = anomalies.anomaly_info[feature]
    info.severity = anomalies_pb2.AnomalyInfo.ERROR
    info.reason.add(type=anomalies_pb2.AnomalyInfo.INVALID_FEATURE_SHAPE, description="some rows are missing")
    return findings_from_anomalies(anomalies, "train", "schemas/x/schema.pbtxt", "y")


SCHEMA = """
feature { name: "city" type: BYTES shape { dim { size: 1 } } }
feature { name: "male" type: INT int_domain { min: 0 max: 1 is_categorical: true } shape { dim { size: 1 } } }
feature { name: "age" type: INT shape { dim { size: 1 } } }
feature { name: "income" type: FLOAT shape { dim { size: 1 } } }
"""


@pytest.mark.parametrize(
    ("feature", "says", "never"),
    [
        ("city", "'', a value of its own", "mean"),
        ("male", "'', a value of its own", "mean"),
        ("age", "imputes the training mean", "''"),
        ("income", "imputes the training mean", "''"),
    ],
)
def test_missing_value_hint_fits_the_column_type(feature: str, says: str, never: str) -> None:
    [finding] = _shape_anomaly(SCHEMA, feature)
    assert says in finding.fix and never not in finding.fix
    assert f"drop `shape` from feature '{feature}'" in finding.fix


def test_missing_value_hint_without_a_schema_names_both_cases() -> None:
    [finding] = _shape_anomaly("", "city")
    assert "the training mean for a number, '' (a value of its own) for a string" in finding.fix


def test_data_blocked_counts_in_good_english() -> None:
    one = {"feature": "age", "kind": "INT_TYPE_BIG_INT", "blocking": True}
    assert "data blocked by 1 anomaly: age" in str(DataBlocked({"anomalies": [one]}))
    assert "data blocked by 2 anomalies: " in str(DataBlocked({"anomalies": [one, {**one, "feature": "b"}]}))
