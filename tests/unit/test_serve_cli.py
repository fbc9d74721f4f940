"""``pipelines.serve`` supervises ``tensorflow_model_server`` when it is on PATH (a stand-in here)."""

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
        f"--model_config_file={serving / '.tf_serving_models.config'}",
        "--model_config_file_poll_wait_seconds=2",
        "--file_system_poll_wait_seconds=2",
        "--allow_version_labels_for_unavailable_models=true",
        f"--monitoring_config_file={serving / 'monitoring.config'}",
    ]
    assert sl.served_version(serving, "ad_click") == 7  # models.config was written before the hand-over
    # TF Serving reads a staged copy that moves labels only to loaded versions: version 7 first, no label yet
    staged = sl.read_models_config(serving, ".tf_serving_models.config")["ad_click"]
    assert staged.versions == (7,) and not staged.labels
    monitoring = (serving / "monitoring.config").read_text()
    assert "enable: true" in monitoring and 'path: "/monitoring/prometheus/metrics"' in monitoring


def test_tf_serving_gets_the_grpc_port_and_batching_parameters(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    serving = tmp_path / "serving"
    sl.publish_version(fake_model(tmp_path / "model"), serving, "ad_click", version=7)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pipelines.serve", "--config", str(config), "--grpc-port", "9500"),
            *("--set", "serving.batching.enabled=true", "--set", "serving.batching.max_batch_size=32"),
        ],
        cwd=REPO,
        env=fake_tf_serving(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args.txt").read_text().splitlines()
    assert args[0] == "--port=9500"
    assert args[-2:] == [
        "--enable_batching=true",
        f"--batching_parameters_file={serving / 'batching_parameters.config'}",
    ]
    assert "max_batch_size { value: 32 }" in (serving / "batching_parameters.config").read_text()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--grpc-port", "70000"], "error: --grpc-port 70000 is not a TCP port (0-65535)"),
        (["--set", "serving.auth.token_env=MY TOKEN"], "must be the name of an environment variable"),
        (["--set", "serving.batching.max_batch_size=0"], "serving.batching.max_batch_size"),
        (
            ["--builtin", "--set", "serving.auth.token_env=NO_SUCH_TOKEN_VARIABLE"],
            "error: serving.auth.token_env names $NO_SUCH_TOKEN_VARIABLE, which is not set or empty",
        ),
        (
            ["--set", "serving.auth.token_env=A", "--set", "serving.auth.token_file=t"],
            "set token_env or token_file, not both",
        ),
    ],
)
def test_bad_serving_options_are_one_line(tmp_path: Path, flags: list[str], message: str) -> None:
    config = write_project(tmp_path)
    sl.publish_version(fake_model(tmp_path / "model"), tmp_path / "serving", "ad_click", version=7)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.serve", "--config", str(config), *flags],
        cwd=REPO,
        env=fake_tf_serving(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


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
    staged = f"--model_config_file={serving / '.tf_serving_models.config'}"
    assert staged in (tmp_path / "args.txt").read_text().splitlines()
    assert sl.served_version(serving, "ad_click") == 7


def test_tf_serving_keeps_its_own_log_level(tmp_path: Path) -> None:
    """Quieting TensorFlow is for the built-in server: an exec'd TF Serving must still print its errors."""
    config = write_project(tmp_path)
    sl.publish_version(fake_model(tmp_path / "model"), tmp_path / "serving", "ad_click", version=7)
    env = fake_tf_serving(tmp_path)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    fake = tmp_path / "bin" / "tensorflow_model_server"
    fake.write_text(f'#!/bin/sh\necho "level=${{TF_CPP_MIN_LOG_LEVEL:-unset}}" > {tmp_path / "env.txt"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.serve", "--config", str(config)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env.txt").read_text().strip() == "level=unset"


@pytest.mark.slow
def test_builtin_server_starts_without_tensorflow_noise(tmp_path: Path) -> None:
    """No CUDA-registration errors or Python-version FutureWarning on a machine without a GPU (issue 20)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}
    model = tmp_path / "model"
    build = f"from tests.serving.toy_model import build_toy_model; build_toy_model({str(model)!r})"
    subprocess.run([sys.executable, "-c", build], cwd=REPO, env=env, check=True, capture_output=True, timeout=180)
    config = write_project(tmp_path)
    sl.publish_version(str(model), tmp_path / "serving", "ad_click", version=7)
    command = [sys.executable, "-m", "pipelines.serve", "--config", str(config), "--builtin", "--port", "0"]
    command += ["--grpc-port", "0"]
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            first = proc.stdout.readline()  # printed once the served versions are loaded
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            proc.stdout.close()
    assert "serving ad_click version 7 at http://" in first
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "loaded ad_click version 7" in stderr  # TensorFlow did load
    assert "cuda" not in stderr.lower() and "FutureWarning" not in stderr, stderr
