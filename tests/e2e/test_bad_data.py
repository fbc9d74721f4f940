"""The bad-data corpus: every case stops before the Trainer with a message naming the feature or
file, and the model pushed by the good first run stays the newest version."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Project, assert_matches_mlmd, mlmd_verdicts

pytestmark = pytest.mark.slow

CASES = [
    "missing_column",
    "extra_column",
    "header_only",
    "wrong_field_count",
    "empty_file",
    "not_utf8",
    "missing_path",
    "text_in_numeric",
    "too_many_missing",
    "empty_column",
    "label_out_of_domain",
    "unseen_category_flood",
    "scaled_x1000_drift",
]


@pytest.fixture(scope="session")
def corpus(project: Project, first_run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = project.root / "corpus-results.json"
    before = project.versions()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.bad_data",
            "--config",
            str(project.config),
            "--good",
            str(project.good_data / "ad_click.csv"),
            "--corpus",
            str(project.root / "corpus"),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["name"]: r for r in json.loads(out.read_text())}
    # The closing note reports these figures.
    print("\n" + "\n".join(f"{n}: exit {r['exit']} in {r['seconds']} s" for n, r in results.items()))
    results["_versions"] = {"before": before, "after": project.versions()}
    return results


def test_corpus_has_every_case(corpus: dict[str, dict[str, Any]]) -> None:
    assert sorted(k for k in corpus if not k.startswith("_")) == sorted(CASES)


@pytest.mark.parametrize("name", CASES)
def test_case_is_stopped_with_an_actionable_message(
    name: str, corpus: dict[str, dict[str, Any]], project: Project
) -> None:
    r = corpus[name]
    expected_exit = 2 if r["stage"] == "config" else 3
    assert r["exit"] == expected_exit, r["stderr"][-2000:] + r["stdout"][-2000:]
    message = r["stderr"] + r["stdout"]
    assert r["names"] in message
    assert "Traceback" not in message
    assert "fix" in message or "hint" in message or r["stage"] == "config"
    if r["stage"] == "config":
        return
    s = r["summary"]
    assert s["status"] == "blocked" and s["pushed"] is None
    assert any(a["blocking"] and r["names"] in (a["feature"] + a["description"]) for a in s["anomalies"])
    status = {c["name"]: c["status"] for c in s["components"]}
    assert status["Transform"] == status["Trainer"] == status["Pusher"] == "skipped"
    if r["stage"] == "gate":
        assert "DataGate stopped the run" in r["stderr"] and status["DataGate"] == "failed"
        # Read back from the gate's verdict artifact of this very run in ML Metadata, not from the process.
        verdicts = mlmd_verdicts(project.metadata, s["run_id"])
        assert [passed for passed, _ in verdicts] == [0]
        assert s["anomalies"] == verdicts[0][1]["anomalies"] and s["drift"] == verdicts[0][1]["drift"]
        assert_matches_mlmd(project, s)
    else:
        assert s["run_id"] is None  # stopped by preflight: no engine started, nothing in ML Metadata


def test_served_model_is_untouched(corpus: dict[str, dict[str, Any]], first_run: dict[str, Any]) -> None:
    versions = corpus["_versions"]
    assert versions["before"] and versions["after"] == versions["before"]
    assert max(first_run["versions"]) in versions["after"]
