"""``python -m pipelines.runs list|show|compare|report`` on the session's real runs (tests/e2e/conftest.py):
the first run, a blocked run, a run with one trainer setting changed and a run whose trainer failed.
No run of its own: everything is read back from the ML Metadata and run records those runs left."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Project

pytestmark = pytest.mark.slow


def runs(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pipelines.runs", args[0], "--config", str(project.config), *args[1:]]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def made(
    first_run: dict[str, Any], blocked_run: dict[str, Any], changed_run: dict[str, Any], failed_run: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The four runs' summaries by name (asked for in this order, so alone the blocked run is between the two)."""
    return {
        name: r["summary"]
        for name, r in [
            ("first", first_run),
            ("blocked", blocked_run),
            ("changed", changed_run),
            ("failed", failed_run),
        ]
    }


def test_list_has_one_row_per_run_with_status_why_blessing_push_and_metric(
    project: Project, made: dict[str, dict[str, Any]]
) -> None:
    done = runs(project, "list", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["run_id"]: r for r in json.loads(done.stdout)}
    ids = [r["run_id"] for r in json.loads(done.stdout)]
    assert ids == sorted(ids, reverse=True)  # newest first (ids are start times)
    first, blocked, changed, failed = (rows[made[n]["run_id"]] for n in ("first", "blocked", "changed", "failed"))
    assert {r["engine"] for r in (first, blocked, changed, failed)} == {"local"}
    assert first["status"] == changed["status"] == "succeeded" and first["blessed"] and changed["blessed"]
    assert changed["pushed_version"] == made["changed"]["pushed"]["version"]
    assert changed["why"] == f"blessed, pushed version {made['changed']['pushed']['version']}"
    assert changed["metric"] == "auc" and changed["value"] == pytest.approx(made["changed"]["metrics"]["auc"])
    assert blocked["status"] == "blocked"
    assert blocked["why"].startswith(f"DataGate: {made['blocked']['anomalies'][0]['feature']}: "), blocked["why"]
    assert blocked["value"] is None and not blocked["blessed"]
    assert failed["status"] == "failed"
    assert failed["why"].startswith("Trainer failed: ValueError: deliberately failing run_fn"), failed["why"]
    assert first["span"] == 0 and first["config_recorded"]

    table = runs(project, "list", "--limit", "2")
    assert table.returncode == 0 and len(table.stdout.strip().splitlines()) == 3, table.stdout  # header + 2
    assert table.stdout.split()[:5] == ["run", "started", "seconds", "engine", "status"]


def test_show_gives_lineage_artifacts_findings_and_reports(project: Project, made: dict[str, dict[str, Any]]) -> None:
    changed = made["changed"]
    done = runs(project, "show", "--run", changed["run_id"])
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.startswith(f"run {changed['run_id']}\nengine: local")
    assert f"status: succeeded (blessed, pushed version {changed['pushed']['version']})" in out
    lineage = out.split("lineage:\n", 1)[1]
    steps = [line.split()[0:2] for line in lineage.splitlines() if line.startswith("  ")]
    names = [" ".join(s) if s[0] in ("data", "transform") and s[1] in ("gate", "graph") else s[0] for s in steps]
    for step in ("data", "schema", "statistics", "data gate", "transform graph", "model", "evaluation", "blessing"):
        assert step in names, (step, names)
    assert f"(version {changed['pushed']['version']})" in lineage and "(blessed)" in lineage
    assert re.search(rf"^  statistics +{re.escape(changed['artifacts']['statistics'])}$", out, flags=re.MULTILINE)
    assert f"evaluation report: {changed['reports']['evaluation']}" in out
    assert "Trainer" in out and "eval metrics (overall): " in out

    blocked = runs(project, "show", "--run", made["blocked"]["run_id"], "--json")
    assert blocked.returncode == 0, blocked.stderr[-3000:]
    data = json.loads(blocked.stdout)
    assert data["status"] == "blocked" and data["summary"]["anomalies"] and data["summary"]["drift"]
    assert any(d["exceeded"] for d in data["summary"]["drift"])
    assert [s["note"] for s in data["lineage"] if s["name"] == "data gate"] == ["blocked"]
    assert data["config"]["data"]["source"] != str(project.good_data)  # the blocked run's own data


def test_compare_names_the_changed_keys_and_the_metric_deltas(
    project: Project, made: dict[str, dict[str, Any]]
) -> None:
    a, b = made["first"], made["changed"]
    done = runs(project, "compare", a["run_id"], b["run_id"], "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    diff = json.loads(done.stdout)
    assert {d["key"]: (d["a"], d["b"]) for d in diff["config"]} == {
        "trainer.learning_rate": (0.003, 0.004),
        "evaluation.thresholds.auc.change.absolute": (-0.01, -1.0),
    }
    auc = diff["metrics"]["overall"]["auc"]
    assert auc["delta"] == pytest.approx(b["metrics"]["auc"] - a["metrics"]["auc"])
    assert diff["data"]["rows"][0] == diff["data"]["rows"][1] and diff["schema"]["changes"] == []
    assert set(diff["metrics"]) == {"overall", *a["slices"]}

    text = runs(project, "compare", a["run_id"], b["run_id"])
    assert text.returncode == 0, text.stderr[-3000:]
    assert "  trainer.learning_rate: 0.003 -> 0.004" in text.stdout
    [line] = [x for x in text.stdout.splitlines() if x.split()[:1] == ["auc"]][:1]
    assert line.split()[-1] == f"{b['metrics']['auc'] - a['metrics']['auc']:+.4f}", line

    blocked = runs(project, "compare", a["run_id"], made["blocked"]["run_id"])
    assert blocked.returncode == 0, blocked.stderr[-3000:]
    assert "data.source: " in blocked.stdout and "largest statistics shifts (train):" in blocked.stdout
    assert "metrics: only A has an evaluation (B stopped before it)" in blocked.stdout


def test_a_run_id_that_does_not_exist_is_exit_2_with_one_line(project: Project, first_run: dict[str, Any]) -> None:
    for args in (("show", "--run", "no-such-run"), ("compare", "latest", "no-such-run")):
        done = runs(project, *args)
        assert done.returncode == 2, done
        assert (
            done.stderr.startswith("error: no run 'no-such-run' of pipeline 'ad_click'")
            and done.stderr.count("\n") == 1
        )


def test_runs_without_a_record_are_read_from_ml_metadata_alone(
    project: Project, made: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """As a run by another engine (Airflow) is: the store alone, no run.json. The config is 'not recorded'."""
    from pipelines import history, load_config

    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(project.metadata, root / "metadata.sqlite")
    config = load_config(str(project.config), [f"pipeline.root={root}"])
    views = {v.run_id: v for v in history.list_runs(config)}
    blocked, changed = views[made["blocked"]["run_id"]], views[made["changed"]["run_id"]]
    assert blocked.record is None and blocked.status == "blocked" and blocked.why.startswith("DataGate: ")
    assert (
        changed.status == "succeeded"
        and changed.blessed
        and changed.pushed_version == made["changed"]["pushed"]["version"]
    )
    assert changed.headline[1] == pytest.approx(made["changed"]["metrics"]["auc"])
    failed = views[made["failed"]["run_id"]]
    assert failed.status == "failed" and failed.why == "Trainer failed: error not recorded (see the engine log)"
    diff = history.compare_runs(config, made["first"]["run_id"], made["changed"]["run_id"])
    assert diff.config_changes is None and "config not recorded" in history.format_comparison(diff)
    assert "config: not recorded" in history.format_details(history.show_run(config, made["blocked"]["run_id"]))


def test_report_writes_an_index_linking_each_runs_reports(
    project: Project, made: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "site" / "index.html"
    done = runs(project, "report", "--out", str(out))
    assert done.returncode == 0 and done.stdout.strip() == f"index of runs: {out}", done
    html = out.read_text()
    for s in made.values():
        assert s["run_id"] in html
    href = os.path.relpath(made["changed"]["reports"]["evaluation"], out.parent)
    assert f'href="{href}"' in html and (out.parent / href).resolve().is_file()

    from tests.browser.test_runs_index import CHROMIUM, check_index

    if os.path.exists(CHROMIUM):
        probe = check_index(out, tmp_path / "browser")
        assert probe["rows"] >= 4 and probe["broken"] == [] and probe["links"] >= 4, probe
