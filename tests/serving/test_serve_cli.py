"""Rollback end to end through the real CLIs: ``pipelines.serve`` (built-in server) + ``pipelines.push``."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from components import serving_layout as sl
from tests.serving.conftest import call
from tests.serving.toy_model import ROW, expected_probability
from tests.unit.test_push_cli import write_project, write_serving_host_project

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
V1, V2 = 1_000, 2_000


def read_line(proc: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            match = re.search(pattern, line)
            if match:
                return match
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s (exit code {proc.poll()})")


def predict(port: int) -> float:
    status, body = call(port, "POST", "/v1/models/ad_click:predict", {"instances": [ROW]})
    assert status == 200, body
    return body["predictions"][0]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def builtin_server(config: Path, log_path: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``pipelines.serve --builtin --port 0 --grpc-port 0`` running, its stderr in ``log_path``: ``(process, port)``.

    The process is killed on the way out if the test did not stop it.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "pipelines.serve", "--config", str(config), "--builtin"),
                *("--port", "0", "--grpc-port", "0", *extra),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
        try:
            yield proc, int(read_line(proc, r"http://127\.0\.0\.1:(\d+)/v1/models/ad_click", timeout=90).group(1))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()


def test_rollback_end_to_end(tmp_path: Path, toy_models: dict[float, str]) -> None:
    config = write_project(tmp_path)
    serving = tmp_path / "serving"
    sl.publish_version(toy_models[1.0], serving, "ad_click", version=V1)
    sl.publish_version(toy_models[2.0], serving, "ad_click", version=V2)
    sl.write_models_config(serving, pins={"ad_click": V2})

    with builtin_server(config, tmp_path / "serve.log", "--set", "serving.poll_seconds=0.2") as (proc, port):
        assert predict(port) == pytest.approx(expected_probability(ROW, 2.0), abs=1e-6)

        done = cli("pipelines.push", "rollback", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert f"now serving version {V1} (was {V2})" in done.stdout
        models = model_server_config_pb2.ModelServerConfig()
        text_format.Parse((serving / "models.config").read_text(), models)
        (entry,) = models.model_config_list.config
        assert list(entry.model_version_policy.specific.versions) == [V1]
        assert dict(entry.version_labels) == {"stable": V1}

        deadline, answer = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            answer = predict(port)
            if answer == pytest.approx(expected_probability(ROW, 1.0), abs=1e-6):
                break
            time.sleep(0.1)
        assert answer == pytest.approx(expected_probability(ROW, 1.0), abs=1e-6)
        stable = call(port, "GET", "/v1/models/ad_click/labels/stable")[1]
        assert stable["model_version_status"][0]["version"] == str(V1)

        listed = cli("pipelines.push", "list", "--config", str(config))
        assert listed.returncode == 0 and re.search(rf"^\* {V1} .* yes \(stable\)", listed.stdout, re.M), listed.stdout

        again = cli("pipelines.push", "rollback", "--config", str(config))
        assert again.returncode == 1
        assert f"error: version {V1} is the oldest version of model 'ad_click'" in again.stderr
        assert "Traceback" not in again.stderr

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_serve_without_a_pushed_model_says_what_to_do(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    done = cli("pipelines.serve", "--config", str(config), "--builtin")
    assert done.returncode == 1
    assert f"error: model 'ad_click' has no pushed versions under {tmp_path / 'serving' / 'ad_click'}" in done.stderr
    assert "hint: run the pipeline first" in done.stderr and "Traceback" not in done.stderr


def test_the_builtin_server_serves_without_the_training_data(tmp_path: Path, toy_models: dict[float, str]) -> None:
    config = write_serving_host_project(tmp_path, ("data", "schema"))
    sl.publish_version(toy_models[1.0], tmp_path / "serving", "ad_click", version=V1)
    with builtin_server(config, tmp_path / "serve.log") as (proc, port):
        assert predict(port) == pytest.approx(expected_probability(ROW, 1.0), abs=1e-6)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log
