"""The ``runner`` and ``schedule`` config keys, and ``pipelines.schedule``'s config errors (exit 2, no TFX)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipelines.config import load_config
from pipelines.config.schedule import check_cron
from pipelines.errors import ConfigError
from tests.unit.config_project import REPO, make_project

GOOD = {"cron": "0 3 1 * *", "start_date": "2026-01-01", "catchup": False, "retries": 1}


def _with(tmp_path: Path, **top: object) -> Path:
    """The test project's config with only the ``runner``/``schedule`` keys given in ``top``."""
    project = make_project(tmp_path)
    cfg = yaml.safe_load((project / "c.yaml").read_text())
    cfg.pop("runner", None)
    cfg.pop("schedule", None)
    cfg.update(top)
    (project / "c.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return project / "c.yaml"


def test_defaults_run_locally_without_schedule(tmp_path: Path) -> None:
    config = load_config(str(_with(tmp_path)))
    assert config.runner == "local" and config.schedule is None


def test_a_good_schedule_loads(tmp_path: Path) -> None:
    config = load_config(str(_with(tmp_path, runner="airflow", schedule=GOOD)))
    s = config.schedule
    assert config.runner == "airflow"
    assert (s.cron, str(s.start_date), s.catchup, s.retries, s.retry_delay_minutes) == (
        "0 3 1 * *",
        "2026-01-01",
        False,
        1,
        5.0,
    )


@pytest.mark.parametrize(
    "change, match",
    [
        ({"cron": "0 3 1 *"}, r"schedule\.cron: .*has 4 field\(s\); a cron line has 5"),
        ({"cron": "0 25 1 * *"}, r"schedule\.cron: .*hour field '25' is outside 0-23"),
        ({"cron": "0 3 1 * funday"}, r"schedule\.cron: .*day of week field 'funday' is not a cron field"),
        ({"cron": "@fortnightly"}, r"schedule\.cron: .*has 1 field"),
        ({"start_date": "next tuesday"}, r"schedule\.start_date"),
        ({"retries": -1}, r"schedule\.retries"),
        ({"catchup": "sometimes"}, r"schedule\.catchup"),
        ({"crontab": "0 3 * * *"}, r"schedule\.crontab"),
    ],
)
def test_bad_schedule_names_the_key(tmp_path: Path, change: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(str(_with(tmp_path, schedule={**GOOD, **change})))


def test_schedule_needs_cron_and_start_date(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"schedule\.cron: required.*\n.*schedule\.start_date: required"):
        load_config(str(_with(tmp_path, schedule={"retries": 1})))


def test_runner_must_be_known(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"runner: unknown runner 'kubeflow'; choose one of local, airflow, vertex"):
        load_config(str(_with(tmp_path, runner="kubeflow")))


@pytest.mark.parametrize("runner", ["local", "airflow", "vertex"])
def test_every_engine_is_a_runner(tmp_path: Path, runner: str) -> None:
    assert load_config(str(_with(tmp_path, runner=runner))).runner == runner


@pytest.mark.parametrize("cron", ["0 3 1 * *", "*/15 * * * *", "0 0 * JAN-MAR MON-FRI", "5,35 1-5/2 * * 0", "@daily"])
def test_good_cron_lines(cron: str) -> None:
    assert check_cron(cron) == cron


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.schedule", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_bad_schedule_is_exit_2_naming_the_key_before_tfx(tmp_path: Path) -> None:
    config = _with(tmp_path, runner="airflow", schedule={**GOOD, "cron": "0 3 32 * *"})
    started = time.monotonic()
    proc = _cli("airflow", "--config", str(config), "--out", str(tmp_path / "dags"))
    assert proc.returncode == 2, proc.stderr
    assert "schedule.cron" in proc.stderr and "day of month field '32' is outside 1-31" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "dags").exists()
    assert time.monotonic() - started < 10  # TensorFlow/TFX were not imported (they take ~25 s)


def test_missing_schedule_is_exit_2(tmp_path: Path) -> None:
    proc = _cli("airflow", "--config", str(_with(tmp_path)), "--out", str(tmp_path / "dags"))
    assert proc.returncode == 2
    assert "schedule: missing; Airflow needs it" in proc.stderr and "cron:" in proc.stderr


def test_a_local_runner_has_no_schedule(tmp_path: Path) -> None:
    proc = _cli("--config", str(_with(tmp_path, schedule=GOOD)), "--out", str(tmp_path / "dags"))
    assert proc.returncode == 2
    assert "runner: 'local' runs here, it has no schedule" in proc.stderr
