"""The runner registry and the Airflow engine's refusals, without Airflow or TFX."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.errors import ConfigError
from pipelines.runners import ENGINES, LocalRunner, Runner, runner_class
from pipelines.runners.airflow import INSTALL, AirflowRunner, require_airflow
from tests.unit.config_project import REPO, make_project


def test_every_engine_is_one_module_with_its_runner() -> None:
    assert {"local", "airflow"} <= set(ENGINES)
    for name in ENGINES:
        cls = runner_class(name)
        assert issubclass(cls, Runner) and cls.name == name
        assert cls.__module__ == f"pipelines.runners.{name}"
    assert runner_class("local") is LocalRunner


def test_unknown_engine() -> None:
    with pytest.raises(ConfigError, match=r"unknown runner .kubeflow.; choose one of local, airflow"):
        runner_class("kubeflow")


def test_airflow_does_not_run_here() -> None:
    with pytest.raises(ConfigError, match=r"Airflow runs this pipeline on its schedule") as info:
        AirflowRunner().check()
    assert "python -m pipelines.schedule airflow" in str(info.value) and "--runner local" in str(info.value)


def test_missing_airflow_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "airflow", None)  # importlib.util.find_spec -> None: not installed
    with pytest.raises(ConfigError, match=r"Airflow is not installed") as info:
        require_airflow()
    assert INSTALL in str(info.value) and "requirements-airflow.lock" in INSTALL


def test_missing_extra_cli_exit_2(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    cfg = yaml.safe_load((project / "c.yaml").read_text())
    cfg["schedule"] = {"cron": "@daily", "start_date": "2026-01-01"}
    (project / "c.yaml").write_text(yaml.safe_dump(cfg))
    code = (
        "import sys; sys.modules['airflow'] = None\n"
        "from pipelines.cli import main_guard\nfrom pipelines.schedule import main\n"
        f"sys.exit(main_guard(lambda: main(['airflow', '--config', {str(project / 'c.yaml')!r}, '--out', 'x'])))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Airflow is not installed" in proc.stderr and "make airflow" in proc.stderr


def test_run_with_runner_airflow_is_exit_2_before_anything_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    args = [sys.executable, "-m", "pipelines.run", "--config", str(project / "c.yaml")]
    proc = subprocess.run([*args, "--runner", "airflow"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Airflow runs this pipeline on its schedule" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "root").exists()  # no pipeline root, no ML Metadata: nothing ran
    proc = subprocess.run([*args, "--set", "runner=airflow"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Airflow runs this pipeline" in proc.stderr


def _pins(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith((" ", "#")))


def test_the_airflow_lock_moves_no_base_version() -> None:
    """requirements-airflow.lock installs over requirements.lock: a base pin it changes would flip
    at every `make setup` / `make test`. Only the two documented exceptions may differ (Makefile:
    lock-airflow); after `make lock`, run `make lock-airflow`."""
    base, extra = _pins(REPO / "requirements.lock"), _pins(REPO / "requirements-airflow.lock")
    moved = {
        name: (version, extra.get(name))
        for name, version in base.items()
        if extra.get(name) != version and not name.startswith("opentelemetry-")
    }
    assert moved == {}, f"run `make lock-airflow`: {moved}"
    assert extra["apache-airflow"] == "2.11.2" and extra["protobuf"] == base["protobuf"]
