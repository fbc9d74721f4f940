"""The fast path reports an unchanged rerun only when TFX would find every component cached."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipelines.config import load_config
from pipelines.results.records import cached_summary, record_success
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
    assert cached["engine"] == "fast-path" and cached["run_id"] == "r1"
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
