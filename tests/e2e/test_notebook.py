"""The exploration notebook runs top to bottom against a real run, finding everything through MLMD."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Project

pytestmark = pytest.mark.slow


def test_notebook_executes_against_the_first_run(
    project: Project, first_run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PIPELINE_CONFIG", str(project.config))
    monkeypatch.setenv("PIPELINE_RUN", first_run["summary"]["run_id"])
    nb = nbformat.read(REPO / "notebooks" / "explore_run.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"run: {first_run['summary']['run_id']}" in text
    assert "anomalies" in text and "blessed: True" in text
    assert os.path.basename(first_run["summary"]["reports"]["validation"]) in text
