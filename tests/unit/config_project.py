"""A throwaway project for config tests: the ad-click config pointed at one small CSV and the curated schema."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
HEADER = (
    "daily_time_spent_on_site,age,area_income,daily_internet_usage,ad_topic_line,city,male,country,"
    "timestamp,clicked_on_ad\n"
)
ROW = "70.1,30,50000.5,180.2,Topic,City,1,France,2016-01-01 10:00:00,0\n"


def make_project(tmp_path: Path) -> Path:
    """``tmp_path/c.yaml`` pointing at ``tmp_path/data`` (header + one row) and the curated schema."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "part.csv").write_text(HEADER + ROW)
    cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
    cfg["pipeline"]["root"] = str(tmp_path / "root")
    cfg["data"]["source"] = str(data)
    cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
    cfg["push"]["serving_dir"] = str(tmp_path / "serving")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return tmp_path


def edit(project: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    """Apply ``change`` to the project's config dict and write it back; returns the config path."""
    path = project / "c.yaml"
    cfg = yaml.safe_load(path.read_text())
    change(cfg)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
