"""``pipelines.serve`` hands over to ``tensorflow_model_server`` when it is on PATH (a stand-in here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from components import serving_layout as sl
from tests.unit.test_push_cli import write_project, write_serving_host_project
from tests.unit.test_serving_layout import fake_model

REPO = Path(__file__).resolve().parents[2]


def fake_tf_serving(tmp_path: Path) -> dict[str, str]:
    """A stand-in ``tensorflow_model_server`` that writes its arguments to ``args.txt``: the env to find it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tensorflow_model_server"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path / "args.txt"}\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_execs_tf_serving_on_models_config(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    serving = tmp_path / "serving"
    sl.publish_version(fake_model(tmp_path / "model"), serving, "ad_click", version=7)
    env = fake_tf_serving(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.serve", "--config", str(config), "--port", "9001"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "args.txt").read_text().splitlines() == [
        "--port=8500",
        "--rest_api_port=9001",
        f"--model_config_file={serving / 'models.config'}",
        "--model_config_file_poll_wait_seconds=2",
        "--file_system_poll_wait_seconds=2",
        "--allow_version_labels_for_unavailable_models=true",
    ]
    assert sl.served_version(serving, "ad_click") == 7  # models.config was written before the hand-over


@pytest.mark.parametrize("missing", [("data",), ("data", "schema")])
def test_serves_without_the_training_data(tmp_path: Path, missing: tuple[str, ...]) -> None:
    config = write_serving_host_project(tmp_path, missing)
    serving = tmp_path / "serving"
    sl.publish_version(fake_model(tmp_path / "model"), serving, "ad_click", version=7)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.serve", "--config", str(config), "--port", "9001"],
        cwd=REPO,
        env=fake_tf_serving(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"--model_config_file={serving / 'models.config'}" in (tmp_path / "args.txt").read_text().splitlines()
    assert sl.served_version(serving, "ad_click") == 7
