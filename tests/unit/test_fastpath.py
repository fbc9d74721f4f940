"""The fast path reports an unchanged rerun only when TFX would find every component cached,
and says what the invocation did: no run, nothing pushed, its own seconds."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import yaml

from pipelines.config import load_config
from pipelines.execute import RunOptions, run_pipeline
from pipelines.results.records import cached_summary, record_success
from pipelines.results.summary import format_table
from tests.unit.test_config import project  # noqa: F401 - the fixture

SUMMARY = {
    "status": "succeeded",
    "pipeline": "ad_click",
    "run_id": "r1",
    "seconds": 9.0,
    "components": [
        {"name": "CsvExampleGen", "status": "ran", "seconds": 3.0},
        {"name": "Trainer", "status": "cached", "seconds": 0.0},
    ],
    "pushed": None,
}


@pytest.fixture
def recorded(project: Path):  # noqa: F811
    cfg = yaml.safe_load((project / "c.yaml").read_text())
    schema = project / "schema.pbtxt"
    schema.write_text(Path(cfg["schema"]["path"]).read_text())
    cfg["schema"]["path"] = str(schema)
    (project / "c.yaml").write_text(yaml.safe_dump(cfg))
    config = load_config(project / "c.yaml")
    os.makedirs(config.pipeline.root, exist_ok=True)
    Path(config.metadata_path).write_bytes(b"mlmd")
    record_success(config, None, SUMMARY)
    return project, config


def test_unchanged_rerun_is_reported_cached(recorded) -> None:
    _, config = recorded
    cached = cached_summary(config, None)
    assert cached["engine"] == "fast-path" and cached["run_id"] is None  # this invocation made no run
    assert cached["unchanged_since"] == {"run_id": "r1", "seconds": 9.0, "pushed": None}
    assert [c["status"] for c in cached["components"]] == ["cached", "cached"]


@pytest.mark.parametrize("change", ["data", "config", "metadata", "until", "schema"])
def test_any_change_goes_through_tfx(recorded, change: str) -> None:
    project_dir, config = recorded
    until = None
    if change == "data":
        csv = project_dir / "data" / "part.csv"
        csv.write_text(csv.read_text() + "70.1,31,50000.5,180.2,T,C,0,France,2016-01-01 10:00:00,1\n")
    elif change == "config":
        config = load_config(project_dir / "c.yaml", ["trainer.train_steps=7"])
    elif change == "metadata":
        Path(config.metadata_path).write_bytes(b"mlmd, another run since")
    elif change == "until":
        until = "validate"
    elif change == "schema":  # edited in place: same path, new content
        schema = Path(config.schema_.path)
        schema.write_text(schema.read_text() + "\n# reviewed\n")
    assert cached_summary(config, until) is None


def test_removed_pushed_version_goes_through_tfx(recorded, tmp_path: Path) -> None:
    _, config = recorded
    record_success(config, None, {**SUMMARY, "pushed": {"version": 1, "path": str(tmp_path / "gone")}})
    assert cached_summary(config, None) is None


def test_unchanged_rerun_says_nothing_was_pushed(recorded, tmp_path: Path) -> None:
    """Not ``pushed: <path>`` and the recorded run's 75 s: the served version, no push, this call's seconds."""
    _, config = recorded
    version = tmp_path / "serving" / "ad_click" / "1796151960"
    version.mkdir(parents=True)
    pushed = {"version": 1796151960, "path": str(version)}
    record_success(config, None, {**SUMMARY, "seconds": 75.0, "pushed": pushed, "log_path": "/logs/r1.log"})
    out, path = io.StringIO(), tmp_path / "summary.json"

    summary = run_pipeline(config, RunOptions(summary_path=str(path)), out=out)

    data = json.loads(path.read_text())
    assert data["pushed"] is None and data["run_id"] is None and data["engine"] == "fast-path"
    assert data["unchanged_since"] == {"run_id": "r1", "seconds": 75.0, "pushed": pushed}
    assert 0.0 <= data["seconds"] < 5.0 and data["seconds"] == summary.seconds  # this invocation's own
    assert data["log_path"] is None  # no log was written
    table = format_table(summary)
    assert "nothing changed since run r1; serving version 1796151960; nothing pushed" in table
    assert "pushed: " not in table and str(version) not in table
    [total] = [line.split() for line in table.splitlines() if line.startswith("total")]
    assert total == ["total", "succeeded", f"{summary.seconds:.1f}"]
    assert "[2/2] Trainer" in out.getvalue() and "cached" in out.getvalue()


def test_unchanged_rerun_of_an_unpushed_run_names_no_version(recorded) -> None:
    _, config = recorded
    record_success(config, None, {**SUMMARY, "push_reason": "the Evaluator did not bless the model"})
    table = format_table(run_pipeline(config, RunOptions(), out=io.StringIO()))
    assert "nothing changed since run r1; nothing pushed" in table and "serving version" not in table
    assert "not pushed: the Evaluator did not bless the model" in table
