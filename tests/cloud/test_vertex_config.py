"""`--runner vertex` before anything heavy: config errors (exit 2 naming the key), missing credentials."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from components.baseline import is_self_baseline
from tests.cloud.conftest import ROOT

GCS = ["--set", "data.source=gs://ad-click-logs/drops", "--set", "push.serving_dir=gs://ad-click-logs/serving"]


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--config", "configs/ad_click.yaml", *argv],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "key", "message"),
    [
        (["--profile", "vertex", *GCS, "--set", "pipeline.root=runs/x"], "pipeline.root", "is local; Vertex AI"),
        (["--profile", "vertex", "--set", "push.serving_dir=gs://b-x/s"], "data.source", "is local"),
        (["--set", "pipeline.root=gs://b-x/r", *GCS], "vertex", "missing; add vertex:"),
        (["--profile", "vertex", *GCS, "--set", "vertex.region=Europe"], "vertex.region", "such as europe-west1"),
        (["--profile", "vertex", *GCS, "--set", "vertex.image=latest"], "vertex.image", "with a tag"),
    ],
)
def test_vertex_config_errors_exit_2_naming_the_key(argv: list[str], key: str, message: str) -> None:
    proc = _run(*argv, "--runner", "vertex", "--compile-only", "job.json")
    assert proc.returncode == 2, proc.stderr
    assert f"{key}:" in proc.stderr and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (ROOT / "job.json").exists()


def test_compile_only_needs_the_vertex_runner() -> None:
    proc = _run("--compile-only", "job.json")
    assert proc.returncode == 2 and "go with --runner vertex" in proc.stderr


def test_submit_without_credentials_says_how_to_get_them(tmp_path) -> None:
    env = {**os.environ, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "absent.json")}
    proc = _run("--profile", "vertex", *GCS, "--runner", "vertex", env=env)
    assert proc.returncode == 1, proc.stderr
    assert "no Google Cloud credentials in the environment" in proc.stderr
    assert "gcloud auth application-default login" in proc.stderr and "Traceback" not in proc.stderr


def test_a_self_baseline_is_recognised_and_an_older_one_is_kept() -> None:
    assert is_self_baseline(["gs://b/Trainer/model/7"], ["gs://b/Trainer/model/7/"])
    assert not is_self_baseline(["gs://b/Trainer/model/7"], ["gs://b/Trainer/model/5"])
    assert not is_self_baseline(["gs://b/Trainer/model/7"], [])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--schedule", "@daily"], "Vertex AI schedules take five cron fields"),
        (["--schedule", "0 3 1 *"], "has 4 field(s)"),
        (["--schedule", "0 3 1 * *", "--set", "gcp.project=null"], "gcp.project: missing"),
    ],
)
def test_bad_schedules_exit_2_before_compiling(argv: list[str], message: str) -> None:
    proc = _run("--profile", "vertex", *GCS, "--runner", "vertex", "--compile-only", "job.json", *argv)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (ROOT / "job.json").exists()
