"""The ad-click pipeline on a real Airflow 2 (SQLite metadata DB in a temp AIRFLOW_HOME, no webserver).

One project, in order: write the DAG from a working directory holding an ``airflow/`` package
(and the dags folder holding a ``pipelines/`` one) that would shadow the DAG file's imports; load
it in a DagBag (no TFX imported, the config's schedule); ``airflow dags test`` runs it to a
blessed, pushed model that ``pipelines.runs show`` summarises from ML Metadata; a second
``dags test`` is all cached; the Evaluator run again in the first run with caching off (what a
retry does: tensorflow/tfx#2805) succeeds; a config whose components changed makes the DAG file
an import error that says to write it again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.data.generators import write_ad_click

# Not imported here: importing Airflow configures logging and an AIRFLOW_HOME for the whole pytest process.
if importlib.util.find_spec("airflow") is None:
    pytest.skip("the airflow extra is not installed: make airflow", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
ROWS = 3000
SCHEDULE = {"cron": "0 3 1 * *", "start_date": "2026-01-01", "catchup": False, "retries": 1}
NODES = [
    "CsvExampleGen",
    "ImportSchemaGen",
    "StatisticsGen",
    "ExampleValidator",
    "drift_baseline_resolver",
    "DataGate",
    "DataGate_stop",
    "Transform",
    "TransformGate",
    "TransformGate_stop",
    "Trainer",
    "baseline_resolver",
    "Evaluator",
    "Pusher",
]
COMPONENTS = [n for n in NODES if not n.endswith(("_resolver", "_stop"))]
SECRET = "not-a-real-secret-4f2a"
DAGBAG_SCRIPT = """
import json, sys, time
from airflow.models.dagbag import DagBag
started = time.monotonic()
bag = DagBag(sys.argv[1], include_examples=False)
dag = bag.dags.get("ad_click")
print(json.dumps({
    "seconds": time.monotonic() - started,
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "file_seconds": [s.duration.total_seconds() for s in bag.dagbag_stats],
    "tfx_imported": "tfx" in sys.modules,
    "schedule": dag and dag.schedule_interval,
    "start": dag and dag.start_date.isoformat(),
    "catchup": dag and dag.catchup,
    "retries": dag and dag.default_args["retries"],
    "tasks": dag and [t.task_id for t in dag.topological_sort()],
    "upstream": dag and {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
}))
"""


class AirflowProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.work = root / "work"  # the working directory of every command
        self.dags = self.work / "airflow" / "dags"
        for shadow in (self.work / "airflow", self.dags / "pipelines"):
            shadow.mkdir(parents=True)
            (shadow / "__init__.py").write_text("raise ImportError('a folder shadowed the real package')\n")
        write_ad_click(str(root / "data"), ROWS, seed=11)
        cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
        cfg["pipeline"]["root"] = str(root / "pipeline")
        cfg["data"]["source"] = str(root / "data")
        cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
        cfg["push"]["serving_dir"] = str(root / "serving")
        cfg["trainer"].update(train_steps=100, eval_steps=5)
        cfg.update(runner="airflow", schedule=SCHEDULE)
        self.cfg = cfg
        self.config = root / "ad_click.yaml"
        self.write_config()
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(root / "airflow_home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AWS_SECRET_ACCESS_KEY": SECRET,  # an environment credential: must not reach the DAG file
        }
        self.seconds: dict[str, float] = {}

    def write_config(self) -> None:
        self.config.write_text(yaml.safe_dump(self.cfg, sort_keys=False))

    def run(self, name: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        proc = subprocess.run(args, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout)
        self.seconds[name] = round(time.monotonic() - started, 1)
        return proc

    def airflow(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(name, str(Path(sys.executable).parent / "airflow"), *args)

    def dagbag(self) -> dict[str, Any]:
        script = self.root / "dagbag.py"  # a script, not -c: the working directory is not on its sys.path
        script.write_text(DAGBAG_SCRIPT)
        proc = self.run("dagbag", sys.executable, str(script), str(self.dags))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def show(self, run: str = "latest") -> dict[str, Any]:
        proc = self.run(
            "runs show", sys.executable, "-m", "pipelines.runs", "show", "--config", str(self.config), "--run", run,
            "--json",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    def versions(self) -> list[str]:
        base = self.root / "serving" / "ad_click"
        return sorted(p.name for p in base.iterdir() if p.name.isdigit()) if base.exists() else []


def _statuses(details: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in details["summary"]["components"]}


def _mlmd_states(project: AirflowProject, run_id: str) -> dict[str, list[str]]:
    """Straight from ML Metadata (no TensorFlow, unlike ``runs show``): node -> its executions' states."""
    from pipelines.results.mlmd import read_run

    run = read_run(str(project.root / "pipeline" / "metadata.sqlite"), "ad_click", run_id)
    assert run.found, run_id
    out: dict[str, list[str]] = {}
    for e in run.executions:
        out.setdefault(e.node, []).append(e.state)
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> AirflowProject:
    return AirflowProject(tmp_path_factory.mktemp("airflow"))


@pytest.fixture(scope="module")
def written(project: AirflowProject) -> Path:
    """The DAG file, written while Airflow's metadata database is created (both take a while)."""
    started = time.monotonic()
    migrate = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        cwd=project.work, env=project.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc = project.run(
        "write dag", sys.executable, "-m", "pipelines.schedule", "airflow", "--config", str(project.config),
        "--out", "airflow/dags",
    )  # fmt: skip
    _, err = migrate.communicate(timeout=300)
    project.seconds["db migrate + write dag"] = round(time.monotonic() - started, 1)
    assert migrate.returncode == 0, err[-3000:]
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return project.dags / "ad_click_dag.py"


@pytest.mark.slow
def test_airflow_end_to_end(project: AirflowProject, written: Path) -> None:
    text = written.read_text()
    assert SECRET not in text and "os.environ" not in text and "getenv" not in text
    bag = project.dagbag()
    assert bag["errors"] == {}
    assert not bag["tfx_imported"]  # parse time loads the config only: far inside the 30 s DagBag timeout
    assert (bag["schedule"], bag["start"], bag["catchup"], bag["retries"]) == (
        "0 3 1 * *",
        "2026-01-01T00:00:00+00:00",
        False,
        1,
    )
    assert sorted(bag["tasks"]) == sorted(NODES)
    assert bag["upstream"]["Pusher"] == ["CsvExampleGen", "Evaluator", "Trainer"]
    assert bag["upstream"]["Transform"] == ["CsvExampleGen", "DataGate_stop", "ImportSchemaGen"]

    first = project.airflow("dags test 1", "dags", "test", "ad_click", "2026-02-01")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    details = project.show()
    assert details["run_id"] == "manual__2026-02-01T00:00:00+00:00"
    assert details["engine"] == "airflow" and details["status"] == "succeeded"
    assert _statuses(details) == dict.fromkeys(COMPONENTS, "ran")
    pushed = project.versions()
    assert details["blessed"] is True and [str(details["pushed_version"])] == pushed

    second = project.airflow("dags test 2", "dags", "test", "ad_click", "2026-03-01")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    states = _mlmd_states(project, "manual__2026-03-01T00:00:00+00:00")
    assert states == {node: ["CACHED"] for node in NODES if not node.endswith("_resolver")}
    assert project.versions() == pushed

    # A retry runs a node again in the same run: with caching off it executes, under the same run id.
    project.cfg["pipeline"]["enable_cache"] = False
    project.write_config()
    retry = project.airflow("evaluator again", "tasks", "test", "ad_click", "Evaluator", "2026-02-01")
    assert retry.returncode == 0, retry.stdout[-3000:] + retry.stderr[-3000:]
    assert "Marking task as SUCCESS" in retry.stdout + retry.stderr
    assert _mlmd_states(project, "manual__2026-02-01T00:00:00+00:00")["Evaluator"] == ["COMPLETE", "COMPLETE"]

    project.cfg["pipeline"]["enable_cache"] = True
    project.cfg["validation"]["post_transform"] = False  # no TransformGate: another task graph
    project.write_config()
    stale = project.dagbag()
    [error] = stale["errors"].values()
    assert "was written for other components" in error and "python -m pipelines.schedule airflow" in error
    print(f"\nairflow e2e seconds: {project.seconds}; DagBag file parse {bag['file_seconds']}")
