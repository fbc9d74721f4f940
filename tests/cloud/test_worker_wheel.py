"""The worker wheel: what Dataflow stages and the Vertex image installs carries every module the job names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and a venv (~10 s)


def test_wheel_imports_components_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    """A plain venv (no system site-packages) with only the wheel: components.* comes from the wheel."""
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    code = (
        "import components, components.baseline, components.metric_names;"
        "print(components.__file__);"
        "print(components.baseline.is_self_baseline(['gs://b/m/7'], ['gs://b/m/7/']))"
    )
    proc = subprocess.run([str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    where, verdict = proc.stdout.split()
    assert where.startswith(str(env_dir)) and verdict == "True"
    # Nothing else leaked in: the stack (pydantic, TFX) comes from the image, not the wheel.
    missing = subprocess.run(
        [str(python), "-c", "import components.transforms"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "No module named 'pydantic'" in missing.stderr


def test_wheel_holds_every_module_the_vertex_job_runs(wheel: Path, compiled: dict[str, Any]) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    job = json.loads(compiled["text"])
    paths: set[str] = set()
    for executor in job["pipelineSpec"]["deploymentSpec"]["executors"].values():
        args = executor.get("container", {}).get("args", [])
        for flag in ("--executor_class_path", "--component_class_path"):
            if flag in args:
                paths.add(args[args.index(flag) + 1])
    ours = {p for p in paths if p.startswith(("components.", "pipelines."))}
    assert {"components.evaluator.Executor", "components.local_executors.CsvExampleGenExecutor"} <= ours, ours
    for path in ours:
        module = path.rsplit(".", 1)[0]
        assert module.replace(".", "/") + ".py" in names, module
    # Generic functions named by module path resolve to modules in the wheel too.
    for fn in re.findall(r"components\.\w+\.(?:preprocessing_fn|run_fn|tuner_fn)", compiled["text"]):
        assert fn.rsplit(".", 1)[0].replace(".", "/") + ".py" in names, fn
