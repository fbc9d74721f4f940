"""The notebooks run top to bottom against real runs (the session's, tests/e2e/conftest.py), in this venv's
kernel, finding everything through ``pipelines.history`` (ML Metadata), and draw static images."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Project, mlmd_verdicts

pytestmark = pytest.mark.slow


def _execute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, project: Project, name: str, run_id: str, **env: str
) -> tuple[str, int]:
    """Run ``notebooks/<name>.ipynb`` against ``run_id``; (the text it printed, how many PNG images it drew)."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PIPELINE_CONFIG", str(project.config))
    monkeypatch.setenv("PIPELINE_RUN", run_id)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit notebooks with outputs stripped"
    )
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint('kernel prefix:', sys.prefix)"))
    # A "python3" kernelspec that starts this interpreter, first on JUPYTER_PATH: a user's own python3
    # kernel (~/.local/share/jupyter/kernels) cannot take its place. The last cell checks it did not.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "venv", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(spec.parents[1]))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "\n".join(o.get("text", "") for o in outputs)
    assert f"kernel prefix: {sys.prefix}\n" in text, text[-500:]
    return text, sum("image/png" in o.get("data", {}) for o in outputs)


def test_validation_notebook_shows_what_blocked_a_run(
    project: Project,
    first_run: dict[str, Any],
    blocked_run: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The gate's verdict of the blocked run (anomalies and drift), its own statistics and its report."""
    s = blocked_run["summary"]
    text, images = _execute(monkeypatch, tmp_path, project, "validation", s["run_id"])
    assert f"run: {s['run_id']}\nengine: local, status: blocked (DataGate: " in text
    [(passed, verdict)] = mlmd_verdicts(project.metadata, s["run_id"])
    assert passed == 0
    found = re.search(r"^(\d+) anomalies, (\d+) drift alarms; blocked by the data gate$", text, flags=re.MULTILINE)
    assert found, text[-3000:]
    anomalies, alarms = int(found.group(1)), int(found.group(2))
    assert anomalies > 0 and anomalies == len(verdict["anomalies"])
    assert alarms > 0 and alarms == sum(d["exceeded"] for d in verdict["drift"])
    assert "drift not measured" not in text
    # Its own statistics: StatisticsGen's output in this run, not the first run's.
    own = s["artifacts"]["statistics"]
    assert f"statistics: {own}\n" in text and own != first_run["summary"]["artifacts"]["statistics"]
    assert f"validation report: {s['reports']['validation']}" in text
    assert images == 2  # drift against its bound, histograms against the previous data


def test_evaluation_notebook_shows_metrics_blessing_and_the_comparison(
    project: Project,
    first_run: dict[str, Any],
    changed_run: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    a, b = first_run["summary"], changed_run["summary"]
    text, images = _execute(monkeypatch, tmp_path, project, "evaluation", b["run_id"], PIPELINE_COMPARE=a["run_id"])
    assert f"run: {b['run_id']}\n" in text and "blessed: True\n" in text
    assert f"pushed: {b['pushed']['version']}\n" in text
    assert f"A: {a['run_id']}" in text and "  trainer.learning_rate: 0.003 -> 0.004\n" in text
    [auc] = [line for line in text.splitlines() if line.split()[:1] == ["auc"]][:1]
    assert auc.split()[-1] == f"{b['metrics']['auc'] - a['metrics']['auc']:+.4f}", auc
    assert images == 3  # metrics per slice, against the baseline, the two runs' deltas
