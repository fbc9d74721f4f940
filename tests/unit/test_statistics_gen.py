"""StatisticsGen runs TFDV's default statistics on larger batches (issue 17; benchmarks/results/floors.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("tfx")

REPO = Path(__file__).resolve().parents[2]


def test_statistics_gen_runs_tfdv_defaults_on_batches_of_10000_rows(tmp_path: Path) -> None:
    import tensorflow_data_validation as tfdv

    from pipelines.build import build_components
    from pipelines.config import load_config

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    cfg = load_config(
        REPO / "configs" / "ad_click.yaml", [f"data.source={tmp_path / 'd'}", f"pipeline.root={tmp_path}"]
    )
    nodes = {c.id: c for c in build_components(cfg, until="validate")}
    options = json.loads(nodes["StatisticsGen"].exec_properties["stats_options_json"])
    assert options.pop("_desired_batch_size") == 10_000
    defaults = json.loads(tfdv.StatsOptions().to_json())
    defaults.pop("_desired_batch_size")
    assert options == defaults  # the same generators and settings: the gate, drift and reports read the same fields
