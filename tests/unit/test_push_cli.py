"""``python -m pipelines.push list|rollback|canary|promote`` through the real CLI, on fake SavedModel directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components import serving_layout as sl
from pipelines.cli import main_guard
from pipelines.push import main
from tests.unit.test_serving_layout import fake_model

REPO = Path(__file__).resolve().parents[2]
HEADER = (
    "daily_time_spent_on_site,age,area_income,daily_internet_usage,ad_topic_line,city,male,country,"
    "timestamp,clicked_on_ad\n"
)


def write_project(root: Path) -> Path:
    """A valid config (one-row CSV, the curated schema) whose serving dir is ``root/serving``."""
    data = root / "data"
    data.mkdir(parents=True)
    (data / "part.csv").write_text(HEADER + "70.1,30,50000.5,180.2,Topic,City,1,France,2016-01-01 10:00:00,0\n")
    cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
    cfg["pipeline"]["root"] = str(root / "root")
    cfg["data"]["source"] = str(data)
    cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
    cfg["push"]["serving_dir"] = str(root / "serving")
    path = root / "c.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def write_serving_host_project(root: Path, missing: tuple[str, ...] = ("data",)) -> Path:
    """The config as a serving host has it: no training data (``data.source`` does not exist) and,
    with ``"schema"`` in ``missing``, no schema file either; the serving dir is ``root/serving``."""
    path = write_project(root)
    cfg = yaml.safe_load(path.read_text())
    cfg["data"]["source"] = str(root / "no-training-data")
    if "schema" in missing:
        cfg["schema"]["path"] = str(root / "no-schemas" / "schema.pbtxt")
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path)


def push(tmp_path: Path, version: int, auc: float) -> None:
    model = tmp_path / f"model-{version}"
    if not model.exists():
        fake_model(model)
    sl.publish_version(
        model,
        tmp_path / "serving",
        "ad_click",
        version=version,
        extra_files={"eval_metrics.json": json.dumps({"metrics": {"auc": auc}})},
    )
    sl.write_models_config(tmp_path / "serving", pins={"ad_click": version})


def test_list_shows_versions_metrics_and_the_served_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    push(project.parent, 100, 0.81)
    push(project.parent, 200, 0.85)
    assert main(["list", "--config", str(project)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip().startswith(("*", "1", "2"))]
    assert lines[0].startswith("* 200") and "yes (stable)" in lines[0] and "auc=0.8500" in lines[0]
    assert lines[1].startswith("  100") and "auc=0.8100" in lines[1]
    assert main(["list", "--config", str(project), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(d["version"], d["served"], d["metrics"]) for d in data] == [
        (100, False, {"auc": 0.81}),
        (200, True, {"auc": 0.85}),
    ]


def test_rollback_then_to_a_named_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for v in (100, 200, 300):
        push(project.parent, v, 0.8)
    assert main(["rollback", "--config", str(project)]) == 0
    assert "now serving version 200 (was 300)" in capsys.readouterr().out
    assert sl.served_version(project.parent / "serving", "ad_click") == 200
    assert main(["rollback", "--config", str(project), "--to", "300"]) == 0
    assert "now serving version 300 (was 200)" in capsys.readouterr().out
    assert main(["rollback", "--config", str(project), "--to", "300"]) == 0
    assert "ad_click: already serving version 300; rewrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "versions, args, message",
    [
        ([], ["list"], "error: model 'ad_click' has no pushed versions under {serving}/ad_click"),
        ([100], ["rollback"], "error: version 100 is the oldest version of model 'ad_click' under {serving}/ad_click"),
        (
            [100, 200],
            ["rollback", "--to", "150"],
            "error: version 150 of model 'ad_click' does not exist under {serving}/ad_click (versions: 100, 200)",
        ),
    ],
)
def test_failures_exit_1_with_a_message_and_no_traceback(
    project: Path, versions: list[int], args: list[str], message: str
) -> None:
    for v in versions:
        push(project.parent, v, 0.8)
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.push", *args, "--config", str(project)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert message.format(serving=project.parent / "serving") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_config_exits_2(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.push", "list", "--config", str(project), "--set", "push.keep_version=3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "did you mean 'keep_versions'" in proc.stderr


@pytest.mark.parametrize("missing", [("data",), ("data", "schema")])
def test_list_and_rollback_need_no_training_data(tmp_path: Path, missing: tuple[str, ...]) -> None:
    config = write_serving_host_project(tmp_path, missing)
    push(tmp_path, 100, 0.81)
    push(tmp_path, 200, 0.85)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.push", *args, "--config", str(config)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("* 200") and "auc=0.8500" in line for line in listed.stdout.splitlines())
    rolled = cli("rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert "now serving version 100 (was 200)" in rolled.stdout
    assert sl.served_version(tmp_path / "serving", "ad_click") == 100


def test_list_keeps_the_metrics_column_aligned(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    push(project.parent, 100, 0.81)
    push(project.parent, 200, 0.85)  # served: "yes (stable)" is wider than the header "served"
    assert main(["list", "--config", str(project)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if "pushed (local time)" in line)
    rows = [line for line in lines if "auc=" in line]
    assert len(rows) == 2
    assert {row.index("auc=") for row in rows} == {header.index("metrics")}
    assert header.index("served") == rows[0].index("yes (stable)")


def test_canary_promote_and_rollback_through_the_cli(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for v, auc in ((100, 0.81), (200, 0.85), (300, 0.87)):
        push(project.parent, v, auc)
    sl.rollback(project.parent / "serving", "ad_click", to=200)
    assert main(["canary", "--config", str(project), "--fraction", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "ad_click: version 300 serves 10% of unlabelled requests as 'canary' beside stable version 200" in out
    assert main(["list", "--config", str(project)]) == 0
    rows = {line[2:].split()[0]: line for line in capsys.readouterr().out.splitlines() if "auc=" in line}
    assert rows["300"].startswith("* 300") and "10% (canary)" in rows["300"] and "auc=0.8700" in rows["300"]
    assert rows["200"].startswith("* 200") and "90% (stable)" in rows["200"] and "auc=0.8500" in rows["200"]
    assert rows["100"].startswith("  100")
    assert main(["list", "--config", str(project), "--json"]) == 0
    data = {d["version"]: (d["labels"], d["share"], d["metrics"]) for d in json.loads(capsys.readouterr().out)}
    assert data == {
        100: ([], 0.0, {"auc": 0.81}),
        200: (["stable"], 0.9, {"auc": 0.85}),
        300: (["canary"], 0.1, {"auc": 0.87}),
    }

    assert main(["rollback", "--config", str(project)]) == 0  # with a canary: removes it, stable stays
    assert "ad_click: removed the canary (version 300); every unlabelled request goes to stable version 200" in (
        capsys.readouterr().out
    )
    assert [(v.version, v.labels) for v in sl.list_versions(project.parent / "serving", "ad_click")] == [
        (100, ()),
        (200, ("stable",)),
        (300, ()),
    ]
    assert main(["canary", "--config", str(project), "--version", "100", "--fraction", "0.5"]) == 0
    assert "version 100 serves 50% of unlabelled requests" in capsys.readouterr().out
    assert main(["promote", "--config", str(project)]) == 0
    assert "ad_click: promoted the canary: version 100 is 'stable' (was 200)" in capsys.readouterr().out
    assert sl.served_version(project.parent / "serving", "ad_click") == 100
    assert main(["rollback", "--config", str(project), "--to", "300"]) == 0  # no canary: today's rollback
    assert "now serving version 300 (was 100)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["canary", "--fraction", "1"],
            2,
            "error: --fraction 1 must be between 0 and 1 (exclusive), e.g. --fraction 0.1",
        ),
        (["canary", "--fraction", "0"], 2, "error: --fraction 0 must be between 0 and 1"),
        (
            ["canary", "--fraction", "0.1", "--version", "150"],
            1,
            "error: version 150 of model 'ad_click' does not exist",
        ),
        (
            ["canary", "--fraction", "0.1", "--version", "200"],
            1,
            "error: version 200 of model 'ad_click' is the stable",
        ),
        (["promote"], 1, "error: model 'ad_click' has no canary under {serving}/ad_click"),
    ],
)
def test_canary_failures_are_one_line_with_the_exit_code(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    push(project.parent, 100, 0.8)
    push(project.parent, 200, 0.8)
    before = (project.parent / "serving" / "models.config").read_text()
    assert main_guard(lambda: main([*args, "--config", str(project)])) == code
    err = capsys.readouterr().err
    assert err.startswith(message.format(serving=project.parent / "serving")) and "Traceback" not in err
    assert (project.parent / "serving" / "models.config").read_text() == before


def test_canary_errors_through_the_real_cli(project: Path) -> None:
    push(project.parent, 100, 0.8)
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.push", "canary", "--config", str(project), "--fraction", "0.2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: model 'ad_click' has only its stable version 100 under")
