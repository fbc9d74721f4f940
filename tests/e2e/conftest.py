"""Shared end-to-end fixtures: one pipeline root and serving dir for the whole session.

The runs happen in this order, each at most once per session, whichever test asks first:
first run (cold) -> rerun with nothing changed, through TFX -> the same through the fast
path -> rerun with one trainer setting changed -> rerun with a user run_fn that fails ->
rerun with an unreachable AUC bar (not blessed). The bad-data corpus runs against the same
pipeline root and serving dir, so the first run's pushed model is the one that must
survive every bad case, and its data is the drift baseline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.datagen import write_ad_click

REPO = Path(__file__).resolve().parents[2]
TRAIN_ROWS, HOLDOUT_ROWS = 5000, 3000
# The generator's rule gives 0.896 AUC at best and 0.733 for the best single feature
# (pipelines/datagen.py). 0.84 is out of reach without combining several features, and
# leaves 0.056 for what 4,000 training rows and 250 steps cannot learn.
AUC_BAR = 0.84
COMPONENTS = ["CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "DataGate", "Transform",
              "TransformGate", "Trainer", "Evaluator", "Pusher"]


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.good_data = root / "data"
        self.config = root / "ad_click.yaml"
        self.serving = root / "serving"
        write_ad_click(str(root / "data"), TRAIN_ROWS, seed=11)
        self.holdout = write_ad_click(str(root / "holdout"), HOLDOUT_ROWS, seed=99)[0]
        cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
        cfg["pipeline"]["root"] = str(root / "pipeline")
        cfg["data"]["source"] = str(root / "data")
        cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
        cfg["push"]["serving_dir"] = str(self.serving)
        cfg["trainer"].update(train_steps=250, eval_steps=10)
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.run_count = 0

    def run(self, *overrides: str, until: str | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        self.run_count += 1
        summary = self.root / f"summary-{self.run_count}.json"
        args = [sys.executable, "-m", "pipelines.run", "--config", str(self.config), "--summary", str(summary)]
        if until:
            args += ["--until", until]
        for o in overrides:
            args += [o] if o.startswith("--") else ["--set", o]
        proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
        data = json.loads(summary.read_text()) if summary.exists() else {}
        return proc, data

    def versions(self) -> list[int]:
        base = self.serving / "ad_click"
        return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit()) if base.exists() else []


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in summary["components"]}


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("e2e"))


def _run(project: Project, *overrides: str, must_succeed: bool = True) -> dict[str, Any]:
    before = project.versions()
    proc, summary = project.run(*overrides)
    if must_succeed:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"proc": proc, "summary": summary, "versions": project.versions(), "before": before}


@pytest.fixture(scope="session")
def first_run(project: Project) -> dict[str, Any]:
    return _run(project)


@pytest.fixture(scope="session")
def cached_run(project: Project, first_run: dict[str, Any]) -> dict[str, Any]:
    return _run(project, "--no-fast-path")


@pytest.fixture(scope="session")
def fast_rerun(project: Project, cached_run: dict[str, Any]) -> dict[str, Any]:
    return _run(project)


@pytest.fixture(scope="session")
def changed_run(project: Project, fast_rerun: dict[str, Any]) -> dict[str, Any]:
    return _run(project, "trainer.learning_rate=0.004")


@pytest.fixture(scope="session")
def failed_run(project: Project, changed_run: dict[str, Any]) -> dict[str, Any]:
    return _run(project, "trainer.run_fn=tests.e2e.user_module.failing_run_fn", must_succeed=False)


@pytest.fixture(scope="session")
def unblessed_run(project: Project, failed_run: dict[str, Any]) -> dict[str, Any]:
    return _run(project, "evaluation.thresholds.auc.lower_bound=0.99", must_succeed=False)
