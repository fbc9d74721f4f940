"""The cloud tests' shared, costly parts, built once per session: the worker wheel and the Vertex job.

The job is ad-click compiled through the real CLI (``--profile vertex --profile dataflow``)
with fake secrets in the environment; the Dataflow tests take each Beam component's flags
from it. The GCS emulator fixtures are the storage tests' own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gcs.conftest import bucket, emulator  # noqa: F401 - fixtures re-used here

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ya29.fake-token-3f9a7c1e"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIfakekey0123\n-----END PRIVATE KEY-----\n"
CRON = "0 3 1 * *"
COMPILE = [
    "--config", "configs/ad_click.yaml", "--profile", "vertex", "--profile", "dataflow",
    "--set", "data.source=gs://ad-click-logs/drops", "--set", "push.serving_dir=gs://ad-click-logs/serving",
    "--runner", "vertex",
]  # fmt: skip


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker wheel, built as `make wheel` does, from a copy of the tree (no build/ in the repo)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("components", "pipelines"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-q", "-w", str(out), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (found,) = out.glob("declarative_tfx-*.whl")
    return found


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("vertex")
    key = tmp / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": PRIVATE_KEY, "client_email": "x@y.z"}))
    env = {
        **os.environ,
        "GOOGLE_APPLICATION_CREDENTIALS": str(key),
        "GOOGLE_OAUTH_ACCESS_TOKEN": SECRET,
        "CLOUDSDK_AUTH_ACCESS_TOKEN": SECRET,
    }
    out = tmp / "job.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.run", *COMPILE, "--set", f"beam.dataflow.extra_package={wheel}",
         "--compile-only", str(out), "--schedule", CRON],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {
        "text": out.read_text(),
        "schedule_text": (tmp / "job.schedule.json").read_text(),
        "stdout": proc.stdout + proc.stderr,
        "key_path": str(key),
        "wheel": str(wheel),
    }
