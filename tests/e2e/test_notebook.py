"""The exploration notebook runs top to bottom against a real run, finding everything through MLMD."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Project, mlmd_verdicts

pytestmark = pytest.mark.slow


def _execute(monkeypatch: pytest.MonkeyPatch, project: Project, run_id: str) -> str:
    """Run the notebook against ``run_id``; the text it printed."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PIPELINE_CONFIG", str(project.config))
    monkeypatch.setenv("PIPELINE_RUN", run_id)
    nb = nbformat.read(REPO / "notebooks" / "explore_run.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_notebook_executes_against_the_first_run(
    project: Project, first_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _execute(monkeypatch, project, first_run["summary"]["run_id"])
    assert f"run: {first_run['summary']['run_id']}" in text
    assert "anomalies" in text and "blessed: True" in text
    assert f"statistics: {first_run['summary']['artifacts']['statistics']}" in text
    assert os.path.basename(first_run["summary"]["reports"]["validation"]) in text


def test_notebook_shows_what_blocked_a_run(
    project: Project, first_run: dict[str, Any], blocked_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate's verdict of the blocked run (anomalies and drift) and that run's own statistics."""
    s = blocked_run["summary"]
    text = _execute(monkeypatch, project, s["run_id"])
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
    assert f"statistics: {own}" in text and own != first_run["summary"]["artifacts"]["statistics"]
    assert "this run has no evaluation" in text
