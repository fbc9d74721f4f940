"""The ad-click pipeline on a real Airflow 2 (SQLite metadata DB in a temp AIRFLOW_HOME, no webserver).

One project, in order: write the DAG from a working directory holding an ``airflow/`` package
(and the dags folder holding a ``pipelines/`` one) that would shadow the DAG file's imports; load
it in a DagBag (no TFX imported, the config's schedule); ``airflow dags test`` runs it to a
blessed, pushed model that ``pipelines.runs show`` summarises from ML Metadata; a second
``dags test`` is all cached; the Evaluator run again in the first run with caching off (what a
retry does: tensorflow/tfx#2805) succeeds; a config whose components changed makes the DAG file
an import error that says to write it again.

Two Python processes (``DRIVER``) run it all, each calling the real command lines in turn
(``airflow.__main__.main`` as the ``airflow`` script does, ``python -m`` modules through
``runpy``): one creates Airflow's database and then loads the DagBag (it never imports TFX),
the other writes the DAG and runs every ``dags test``, ``runs show`` and ``tasks test`` after
it, so TFX is imported once: each command in its own process paid Python's and Airflow's start
and the TFX import again (216-236 s alone before, most of it start-up).
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
# Runs the steps named in a JSON file (argv[1]) in this one process, in order, until one fails
# (then it writes <argv[1]>.failed). It prints "@@step NAME" before a step and "@@done {json}"
# after it (seconds, exit, result); stderr goes to stdout, so a step's log is the text between.
DRIVER = """
import contextlib, io, json, os, runpy, sys, time, traceback

def dagbag(folder):
    from airflow.models.dagbag import DagBag
    started = time.monotonic()
    bag = DagBag(folder, include_examples=False)
    dag = bag.dags.get("ad_click")
    return {
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
    }

def airflow(*argv):  # the `airflow` command line itself
    from airflow.__main__ import main
    sys.argv = ["airflow", *argv]
    main()

def module(name, *argv):  # python -m NAME ARGV: the working directory first on sys.path; its stdout
    sys.argv, path, out = [name, *argv], list(sys.path), io.StringIO()
    sys.path.insert(0, os.getcwd())
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_module(name, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code:
            raise
    finally:
        sys.path[:] = path
        print(out.getvalue())
    return out.getvalue()

def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)

def wait(path, *failed):  # until another driver writes `path` (or says it failed)
    started = time.monotonic()
    while not os.path.exists(path):
        if any(os.path.exists(f) for f in failed) or time.monotonic() - started > 900:
            raise RuntimeError(f"gave up waiting for {path}")
        time.sleep(0.2)

STEPS = {"dagbag": dagbag, "airflow": airflow, "module": module, "write": write, "wait": wait}
for name, kind, args in json.load(open(sys.argv[1])):
    print(f"@@step {name}", flush=True)
    started, code, result = time.monotonic(), 0, None
    try:
        result = STEPS[kind](*args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else str(exc.code))
    except Exception:
        traceback.print_exc()
        code = "exception"
    sys.stdout.flush()
    sys.stderr.flush()
    done = {"name": name, "seconds": round(time.monotonic() - started, 1), "exit": code, "result": result}
    print("@@done " + json.dumps(done), flush=True)
    if code:
        write(sys.argv[1] + ".failed", name)
        break
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

    def driver(self, name: str, *steps: tuple[str, str, list[Any]]) -> subprocess.Popen[str]:
        """Start a DRIVER process running ``steps`` (name, kind, args) in the working directory."""
        script, plan = self.root / f"{name}_driver.py", self.root / f"{name}.json"
        script.write_text(DRIVER)  # a script, not -c: the working directory is not on its sys.path
        plan.write_text(json.dumps(steps))
        with (self.root / f"{name}.log").open("w") as log:  # a file, not a pipe that no one reads meanwhile
            return subprocess.Popen(
                [sys.executable, str(script), str(plan)], cwd=self.work, env={**self.env, "PYTHONUNBUFFERED": "1"},
                stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip

    def finish(self, name: str, proc: subprocess.Popen[str], steps: int) -> dict[str, dict[str, Any]]:
        """Wait for driver ``name``; step name -> its exit, seconds, result and log. Every step must have passed."""
        try:
            proc.wait(timeout=1200)
        finally:  # a hung or failed driver must not outlive the test
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stdout = (self.root / f"{name}.log").read_text(errors="replace")
        done: dict[str, dict[str, Any]] = {}
        for chunk in stdout.split("@@step ")[1:]:
            name, _, rest = chunk.partition("\n")
            log, _, tail = rest.rpartition("@@done ")
            result = json.loads(tail.splitlines()[0]) if tail else {"exit": "killed", "result": None, "seconds": None}
            done[name] = {**result, "name": name, "log": log}
            self.seconds[name] = result["seconds"]
        assert proc.returncode == 0, stdout[-3000:]
        last = list(done.values())[-1] if done else {"name": "start", "exit": "none ran", "log": stdout}
        assert len(done) == steps and not last["exit"], f"{last['name']}: exit {last['exit']}\n{last['log'][-3000:]}"
        return done

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


@pytest.mark.slow
def test_airflow_end_to_end(project: AirflowProject) -> None:
    dags, config, written = str(project.dags), str(project.config), project.dags / "ad_click_dag.py"
    migrated, main_failed, side_failed = (
        str(project.root / n) for n in ("migrated", "main.json.failed", "side.json.failed")
    )
    no_cache = {**project.cfg, "pipeline": {**project.cfg["pipeline"], "enable_cache": False}}
    # No TransformGate: another task graph than the DAG file was written for.
    other = {**project.cfg, "validation": {**project.cfg["validation"], "post_transform": False}}
    side_steps = [
        ("db migrate", "airflow", ["db", "migrate"]),
        ("migrated", "write", [migrated, "yes"]),
        ("wait for the dag", "wait", [str(written), main_failed]),
        ("dagbag", "dagbag", [dags]),  # this process never imports TFX
    ]
    main_steps = [
        ("write dag", "module", ["pipelines.schedule", "airflow", "--config", config, "--out", "airflow/dags"]),
        ("wait for db migrate", "wait", [migrated, side_failed]),
        ("dags test 1", "airflow", ["dags", "test", "ad_click", "2026-02-01"]),
        ("runs show", "module", ["pipelines.runs", "show", "--config", config, "--run", "latest", "--json"]),
        ("dags test 2", "airflow", ["dags", "test", "ad_click", "2026-03-01"]),
        # A retry runs a node again in the same run: with caching off it executes, under the same run id.
        ("cache off", "write", [config, yaml.safe_dump(no_cache, sort_keys=False)]),
        ("evaluator again", "airflow", ["tasks", "test", "ad_click", "Evaluator", "2026-02-01"]),
        ("other components", "write", [config, yaml.safe_dump(other, sort_keys=False)]),
        ("stale dagbag", "dagbag", [dags]),
    ]
    started = time.monotonic()
    side = project.driver("side", *side_steps)
    main = project.driver("main", *main_steps)
    try:
        done = project.finish("main", main, len(main_steps))
    finally:  # the main driver failed: the side driver would wait for it until its own timeout
        if main.returncode != 0:
            side.kill()
    done.update(project.finish("side", side, len(side_steps)))
    project.seconds["both drivers"] = round(time.monotonic() - started, 1)

    text = written.read_text()
    assert SECRET not in text and "os.environ" not in text and "getenv" not in text
    bag = done["dagbag"]["result"]
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

    shown = done["runs show"]["result"]
    details = json.loads(shown[shown.index("{") :])
    assert details["run_id"] == "manual__2026-02-01T00:00:00+00:00"
    assert details["engine"] == "airflow" and details["status"] == "succeeded"
    assert _statuses(details) == dict.fromkeys(COMPONENTS, "ran")
    # Read after every step: the first run's push is the only one (the cached run and the retry push nothing).
    pushed = project.versions()
    assert details["blessed"] is True and [str(details["pushed_version"])] == pushed

    states = _mlmd_states(project, "manual__2026-03-01T00:00:00+00:00")
    assert states == {node: ["CACHED"] for node in NODES if not node.endswith("_resolver")}

    assert "Marking task as SUCCESS" in done["evaluator again"]["log"], done["evaluator again"]["log"][-3000:]
    assert _mlmd_states(project, "manual__2026-02-01T00:00:00+00:00")["Evaluator"] == ["COMPLETE", "COMPLETE"]

    [error] = done["stale dagbag"]["result"]["errors"].values()
    assert "was written for other components" in error and "python -m pipelines.schedule airflow" in error
    print(f"\nairflow e2e seconds: {project.seconds}; DagBag file parse {bag['file_seconds']}")
