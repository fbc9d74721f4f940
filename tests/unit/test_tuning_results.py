"""Tuned settings applied to the spec, and the tuning record in the summary, console and evaluation report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from components import hyperparameters
from components.spec import FeatureSpec
from pipelines.results.reports import render_evaluation_report
from pipelines.results.summary import RunSummary, format_table
from pipelines.results.tuning import read_tuning, tuning_lines

SPEC = FeatureSpec.from_config(
    {
        "label": "y",
        "task": "binary",
        "features": {"city": {"transform": "hash", "hash_buckets": 8, "embedding_dim": None}},
        "model": {"hidden_units": [64, 32], "embedding_dim": 8, "dropout": 0.0},
        "trainer": {"learning_rate": 1e-5, "batch_size": 128},
    }
)
RECORD: dict[str, Any] = {
    "objective": "auc",
    "direction": "max",
    "baseline": {
        "settings": {"trainer.learning_rate": 1e-05, "model.hidden_units": [64, 32]},
        "objective": 0.6274,
        "steps": 150,
        "seconds": 10.9,
    },
    "trials": [
        {
            "trial": "0",
            "settings": {"trainer.learning_rate": 0.003, "model.hidden_units": [32]},
            "objective": 0.8655,
            "status": "completed",
            "steps": 150,
            "seconds": 4.9,
        },
        {
            "trial": "1",
            "settings": {"trainer.learning_rate": 0.01, "model.hidden_units": [64, 32]},
            "objective": None,
            "status": "invalid",
            "seconds": 0.4,
        },
    ],
    "chosen": {"trial": "0", "settings": {"trainer.learning_rate": 0.003, "model.hidden_units": [32]}},
}


def test_apply_replaces_model_trainer_and_feature_settings() -> None:
    tuned = hyperparameters.apply(
        SPEC, {"trainer.learning_rate": 0.003, "model.hidden_units": [32], "features.city.embedding_dim": 4}
    )
    assert tuned.trainer == {"learning_rate": 0.003, "batch_size": 128}
    assert tuned.model["hidden_units"] == [32] and tuned.model["embedding_dim"] == 8
    assert tuned.features["city"]["embedding_dim"] == 4 and tuned.features["city"]["hash_buckets"] == 8
    assert SPEC.trainer["learning_rate"] == 1e-5 and SPEC.features["city"]["embedding_dim"] is None  # not mutated


@pytest.mark.parametrize("name", ["data.source", "features.nope.embedding_dim", "trainer", "model.a.b"])
def test_apply_refuses_a_setting_outside_the_spec(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        hyperparameters.apply(SPEC, {name: 1})


def test_values_of_reads_the_best_hyperparameters_shape() -> None:
    assert hyperparameters.values_of({"space": [], "values": {"trainer.learning_rate": 0.003}}) == {
        "trainer.learning_rate": 0.003
    }
    assert hyperparameters.values_of(None) == {}  # no Tuner upstream: the config's settings


@pytest.mark.parametrize("value", [[64, 32], 0.003, 4, "adam", True])
def test_choice_values_round_trip(value: Any) -> None:
    encoded = hyperparameters.encode(value)
    assert isinstance(encoded, (int, float, str, bool))  # what keras-tuner's Choice holds
    assert hyperparameters.decode(encoded) == value


def test_console_lines_show_every_trial_and_the_chosen_one() -> None:
    lines = tuning_lines(RECORD)
    assert lines[0] == "tuning: auc (higher is better), 2 trials and the baseline; chosen: trial 0"
    baseline, chosen, failed = lines[2:]
    assert baseline.split()[:4] == ["baseline", "0.6274", "150", "10.9"]
    assert "trainer.learning_rate=1e-05" in baseline and "model.hidden_units=[64, 32]" in baseline
    assert chosen.endswith("<- chosen") and "0.8655" in chosen and "trainer.learning_rate=0.003" in chosen
    assert "failed" in failed and "<- chosen" not in failed


def test_summary_json_and_table_carry_the_tuning_record() -> None:
    summary = RunSummary(status="succeeded", pipeline="p", run_id="r", seconds=1.0, components=[], tuning=RECORD)
    assert json.loads(summary.to_json())["tuning"] == RECORD
    assert RunSummary(**asdict(summary)).tuning == RECORD  # the fast path rebuilds it from the record
    table = format_table(summary)
    assert "tuning: auc (higher is better)" in table and "<- chosen" in table
    assert "tuning" not in format_table(
        RunSummary(status="succeeded", pipeline="p", run_id="r", seconds=1, components=[])
    )


def test_read_tuning_reads_the_tuner_results_folder(tmp_path: Path) -> None:
    assert read_tuning(str(tmp_path)) is None
    (tmp_path / hyperparameters.TRIALS_FILE).write_text(json.dumps(RECORD))
    assert read_tuning(str(tmp_path)) == RECORD


def test_evaluation_report_names_the_chosen_settings(tmp_path: Path) -> None:
    html = Path(
        render_evaluation_report(tmp_path / "e.html", title="t", metrics={"auc": 0.86}, tuning=RECORD)
    ).read_text()
    assert 'id="tuned-settings"' in html
    assert "trial 0" in html and "trainer.learning_rate=0.003, model.hidden_units=[32]" in html
    assert "0.6274" in html  # the baseline's row
    plain = Path(render_evaluation_report(tmp_path / "p.html", title="t", metrics={"auc": 0.86})).read_text()
    assert "tuned-settings" not in plain


def test_report_says_when_the_configs_own_settings_won(tmp_path: Path) -> None:
    record = {**RECORD, "chosen": {"trial": "baseline", "settings": RECORD["baseline"]["settings"]}}
    html = Path(render_evaluation_report(tmp_path / "e.html", title="t", metrics={}, tuning=record)).read_text()
    assert "the config&#39;s own (no trial beat them)" in html or "the config's own (no trial beat them)" in html
