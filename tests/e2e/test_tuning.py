"""Tuning end to end on its own small project: a deliberately poor learning rate in the config, a space with
good ones; the Tuner finds a clearly better trial, the pushed model is trained with its settings, and a rerun
with nothing changed reuses the Tuner and the Trainer (TFX's cache, not the fast path)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.data.generators import write_ad_click
from tests.e2e.conftest import REPO, statuses

pytestmark = pytest.mark.slow

POOR_LR = 1e-5  # 150 steps at 1e-5 barely move the weights: AUC near what the initial model scores
SPACE = {
    "trainer": {"learning_rate": {"choice": [0.003, 0.01]}},
    "model": {"hidden_units": {"choice": [[32], [64, 32]]}},
}


class TuningProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        write_ad_click(str(root / "data"), 3000, seed=11)
        cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
        cfg["pipeline"].update(name="ad_click_tuning_test", root=str(root / "pipeline"))
        cfg["data"]["source"] = str(root / "data")
        cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
        cfg["push"]["serving_dir"] = str(root / "serving")
        cfg["trainer"].update(train_steps=150, eval_steps=10, learning_rate=POOR_LR)
        cfg["model"]["hidden_units"] = [64, 32]
        # What this test does not look at is off, to keep it short: post-transform statistics, slices, infra check.
        cfg["validation"]["post_transform"] = False
        cfg["evaluation"].update(metrics=["auc", "example_count"], slices=[], thresholds={"auc": {"lower_bound": 0.7}})
        cfg["push"].update(infra_validation=False, warmup_requests=0)
        cfg["tuning"] = {
            "space": SPACE,
            "max_trials": 2,
            "steps_per_trial": 150,
            "objective": {"metric": "auc"},
        }
        self.config = root / "c.yaml"
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))

    def run(self, name: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        summary = self.root / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines.run", "--config", str(self.config), "--summary", str(summary), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return proc, json.loads(summary.read_text()) if summary.exists() else {}


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[TuningProject, subprocess.CompletedProcess[str], dict]:
    project = TuningProject(tmp_path_factory.mktemp("tuning"))
    proc, summary = project.run("first")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return project, proc, summary


def test_tuner_finds_a_clearly_better_trial_than_the_poor_default(tuned: Any) -> None:
    _, proc, summary = tuned
    assert statuses(summary)["Tuner"] == "ran" and statuses(summary)["Trainer"] == "ran"
    tuning = summary["tuning"]
    assert tuning["objective"] == "auc" and tuning["direction"] == "max"
    baseline = tuning["baseline"]
    assert baseline["settings"] == {"trainer.learning_rate": POOR_LR, "model.hidden_units": [64, 32]}
    assert len(tuning["trials"]) == 2
    for trial in tuning["trials"]:
        assert trial["status"] == "completed" and trial["seconds"] > 0 and trial["steps"] == 150
        assert trial["settings"]["trainer.learning_rate"] in (0.003, 0.01)
    chosen = tuning["chosen"]
    best = max(tuning["trials"], key=lambda t: t["objective"])
    assert chosen["trial"] == best["trial"] and chosen["settings"] == best["settings"]
    # Observed: baseline (lr 1e-5) AUC about 0.63, the best trial about 0.87. A clear margin, not noise.
    assert best["objective"] - baseline["objective"] >= 0.1, (baseline, best)
    assert "tuning: auc (higher is better), 2 trials and the baseline" in proc.stdout
    assert "<- chosen" in proc.stdout


def _fields(buf: bytes) -> Iterator[tuple[int, bytes]]:
    """(field number, bytes) of a protobuf message's length-delimited fields; other wire types skipped."""

    def varint(i: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = buf[i]
            value |= (byte & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if byte < 0x80:
                return value, i

    i = 0
    while i < len(buf):
        key, i = varint(i)
        wire = key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 2:
            n, i = varint(i)
            yield key >> 3, buf[i : i + n]
            i += n
        else:
            i += {1: 8, 5: 4}[wire]


def recorded_model(saved_model: Path) -> dict[str, Any]:
    """The Keras model's own record in a SavedModel (``keras_metadata.pb``: SavedMetadata, nodes = 1,
    metadata = 5), read without TensorFlow: the root node holds the layers' config and the training config."""
    nodes = [node for num, node in _fields((saved_model / "keras_metadata.pb").read_bytes()) if num == 1]
    records = [json.loads(value) for node in nodes for num, value in _fields(node) if num == 5]
    return next(r for r in records if "training_config" in r)


def test_the_pushed_model_was_trained_with_the_chosen_settings(tuned: Any) -> None:
    project, _, summary = tuned
    chosen = summary["tuning"]["chosen"]["settings"]
    assert summary["blessed"] and summary["pushed"], summary
    # The Trainer's input: the Tuner's best_hyperparameters artifact holds the chosen settings.
    (best,) = (project.root / "pipeline" / "Tuner" / "best_hyperparameters").glob("*/best_hyperparameters.txt")
    assert json.loads(best.read_text())["values"] == chosen
    # The pushed model itself: its optimizer's learning rate and its hidden layers' widths.
    model = recorded_model(Path(summary["pushed"]["path"]))
    optimizer = model["training_config"]["optimizer_config"]["config"]
    assert optimizer["learning_rate"] == pytest.approx(chosen["trainer.learning_rate"], rel=1e-6)
    dense = [
        layer["config"]["units"]
        for layer in model["config"]["layers"]
        if layer["class_name"] == "Dense" and not layer["config"]["name"].endswith("_logit")
    ]
    assert dense == chosen["model.hidden_units"]
    report = Path(summary["reports"]["evaluation"]).read_text()
    assert 'id="tuned-settings"' in report and f"trial {summary['tuning']['chosen']['trial']}" in report


def test_rerun_with_nothing_changed_reuses_tuner_and_trainer(tuned: Any) -> None:
    project, _, first = tuned
    proc, summary = project.run("rerun", "--no-fast-path")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert summary["engine"] == "tfx"
    assert set(statuses(summary).values()) == {"cached"}, statuses(summary)
    assert summary["tuning"] == first["tuning"]  # read back from the cached Tuner's artifact
