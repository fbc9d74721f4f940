"""``pipelines.monitor``'s edges: config and flag errors (exit 2, one line), exit 4, the retrain trigger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipelines.cli import main_guard
from pipelines.config import load_config
from pipelines.errors import ConfigError, MonitoringAlertError
from pipelines.monitor import main, parse_time
from tests.unit.test_push_cli import write_project


def run(argv: list[str]) -> int:
    return main_guard(lambda: main(argv))


def test_no_request_log_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    assert run(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "serving.logging.path is not set" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ("monitoring.skew_treshold=0.2", "skew_threshold"),
        ("monitoring.confidence=1.5", "confidence"),
        ("monitoring.features.age=0", "age"),
    ],
)
def test_bad_monitoring_settings_name_the_key(tmp_path: Path, setting: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(str(write_project(tmp_path)), [setting])


def test_monitoring_defaults_live_on_the_model(tmp_path: Path) -> None:
    mon = load_config(str(write_project(tmp_path))).monitoring
    assert (mon.skew_threshold, mon.numeric_threshold, mon.live_margin, mon.window_hours) == (0.1, 0.1, 0.05, 24.0)


def test_times(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert parse_time("2026-01-01T00:00:00", "--since") == 1767225600.0
    assert parse_time("2026-01-01T01:00:00+01:00", "--since") == 1767225600.0
    assert parse_time("1767225600", "--since") == 1767225600.0
    config = write_project(tmp_path)
    assert run(["--config", str(config), "--since", "yesterday"]) == 2
    assert "--since 'yesterday': not a time" in capsys.readouterr().err


def test_alert_exits_4_listing_each_alert(capsys: pytest.CaptureFixture[str]) -> None:
    def alarm() -> int:
        raise MonitoringAlertError(["version 3 (stable): skew of age L-infinity 0.400 > 0.1"])

    assert main_guard(alarm) == 4
    assert "monitoring: 1 alert:\n  - version 3 (stable): skew of age" in capsys.readouterr().err


def test_retrain_records_its_trigger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The trigger plumbing only: a real retraining run is a whole pipeline run (see the report)."""
    import pipelines.execute
    from pipelines import monitor
    from pipelines.results.summary import RunSummary

    seen = {}

    def run_pipeline(config, options):
        seen["options"] = options
        return RunSummary("succeeded", "ad_click", "run-1", 1.0, [], trigger=options.trigger)

    monkeypatch.setattr(pipelines.execute, "run_pipeline", run_pipeline)
    config = load_config(str(write_project(tmp_path)))
    line = monitor.retrain(config, ["version 3 (stable): drift of age"], str(tmp_path / "s.json"))
    assert line == "retrain run run-1: succeeded"
    options = seen["options"]
    assert options.trigger == {"by": "pipelines.monitor", "alerts": ["version 3 (stable): drift of age"]}
    assert options.fast_path is False and options.summary_path == str(tmp_path / "s.json")
    summary = RunSummary("succeeded", "p", "r", 1.0, [], trigger=options.trigger)
    assert json.loads(summary.to_json())["trigger"]["alerts"] == ["version 3 (stable): drift of age"]


def test_retrain_summary_needs_retrain(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    with pytest.raises(SystemExit):
        main(["--config", str(config), "--retrain-summary", "x.json"])


def test_empty_log_folder_exits_0_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path)
    cfg = yaml.safe_load(config.read_text())
    cfg["serving"] = {"logging": {"path": str(tmp_path / "log")}}
    config.write_text(yaml.safe_dump(cfg))
    assert run(["--config", str(config), "--json", str(tmp_path / "r.json")]) == 0
    assert "no logged requests in the window" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == 0
