"""The Airflow engine: writes a DAG file that Airflow runs on the config's schedule.

    python -m pipelines.schedule airflow --config C --out dags/
        write_dag: build the pipeline once with TFX's AirflowDagRunner -> its task graph
        -> dags/<pipeline>_dag.py: paths, --set overrides and the task graph; no credentials
    Airflow parses the file (every 30 s, 30 s timeout): airflow_dag()
        loads the config (pydantic only, well under a second): schedule, retries, checks
        -> one PythonOperator per pipeline node, wired as the task graph; no TFX import
    Airflow runs a task: airflow_tasks.run_node()
        builds the pipeline with AirflowDagRunner and runs that node with TFX's launcher

Importing TFX and building the pipeline takes about 16 s on an idle 2-core machine and more
under load, too close to the DagBag's 30 s timeout to do at parse time: only the task pays it,
as every task of a TFX-on-Airflow DAG does anyway. The DAG file puts the project folder first
on ``sys.path``, so a ``pipelines/`` or ``airflow/`` folder next to it or in the working
directory cannot shadow the code it imports.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ConfigError
from pipelines.runners.base import Progress, Runner, RunOutcome

__all__ = ["INSTALL", "AirflowRunner", "airflow_dag", "dag_path", "require_airflow"]

INSTALL = "make airflow  (or: .venv/bin/python -m uv pip install --no-deps -r requirements-airflow.lock)"
_PROJECT = fs.dirname(fs.dirname(fs.dirname(os.path.abspath(__file__))))

_TEMPLATE = '''"""Airflow DAG of pipeline {name!r}: TFX's AirflowDagRunner, one task per pipeline node.

Written by `python -m pipelines.schedule airflow --config {config} --out <this folder>`
from the config; the schedule is read from the config each time Airflow parses this file.
Write it again after changing the config's components. It holds no credentials: tasks take
them from their own environment.
"""

import sys

PROJECT = {project!r}
CONFIG = {config!r}
OVERRIDES = {overrides!r}
TASK_GRAPH = {graph}

if sys.path[:1] != [PROJECT]:
    sys.path.insert(0, PROJECT)

from pipelines.runners.airflow import airflow_dag  # noqa: E402

dag = airflow_dag(CONFIG, OVERRIDES, TASK_GRAPH, dag_file=__file__)
'''


def require_airflow() -> None:
    """ConfigError (exit 2) with the install command when the ``airflow`` extra is missing."""
    if importlib.util.find_spec("airflow") is None or importlib.util.find_spec("airflow.models") is None:
        raise ConfigError("Airflow is not installed (the `airflow` extra)", hint=f"install it: {INSTALL}")


def dag_path(config: PipelineConfig, out_dir: str) -> str:
    """Where ``write_dag`` puts the DAG file: ``<out_dir>/<pipeline>_dag.py`` (never shadows a package)."""
    return fs.join(os.path.abspath(out_dir), f"{config.pipeline.name}_dag.py")


class AirflowRunner(Runner):
    """Writes the config's pipeline as an Airflow DAG; Airflow runs it (``runner: airflow``).

    Example:
        >>> AirflowRunner().write_dag(config, "configs/ad_click.yaml", [], "dags/")
        '/home/me/project/dags/ad_click_dag.py'
    """

    name = "airflow"

    def run(self, pipeline: Any, progress: Progress | None = None) -> RunOutcome:
        raise _not_here()

    def check(self) -> None:
        raise _not_here()

    def write_dag(self, config: PipelineConfig, config_path: str, overrides: list[str], out_dir: str) -> str:
        """Write the DAG file for ``config`` (loaded from ``config_path`` with ``overrides``); its path.

        Raises:
            ConfigError: no ``schedule`` section, or Airflow is not installed.
        """
        if config.schedule is None:
            raise ConfigError(
                f"{config_path}: schedule: missing; Airflow needs it",
                hint="add e.g. schedule: {cron: '0 3 1 * *', start_date: 2026-01-01, catchup: false, retries: 1}",
            )
        require_airflow()
        from pipelines.runners.airflow_tasks import task_graph

        graph = task_graph(config)
        lines = ",\n".join(f"    {node!r}: {after!r}" for node, after in graph.items())
        text = _TEMPLATE.format(
            name=config.pipeline.name,
            project=_PROJECT,
            config=os.path.abspath(config_path),
            overrides=list(overrides),
            graph="{\n" + lines + ",\n}",
        )
        path = dag_path(config, out_dir)
        fs.makedirs(fs.dirname(path))
        fs.write_text(path, text)
        return path


def _not_here() -> ConfigError:
    return ConfigError(
        "runner airflow: Airflow runs this pipeline on its schedule, not `pipelines.run`",
        hint="write its DAG with `python -m pipelines.schedule airflow --config C --out dags/`, "
        "or run it here with --runner local",
    )


def airflow_dag(
    config_path: str, overrides: list[str], graph: dict[str, list[str]], dag_file: str | None = None
) -> Any:
    """The Airflow DAG a DAG file defines: the config's schedule, one task per node of ``graph``.

    Runs at parse time: loads the config and builds operators, nothing more (no TFX).

    Raises:
        ConfigError: the config is invalid, has no ``schedule``, or now has other components
            than ``graph`` (the DAG file is stale: write it again).
    """
    from airflow.models.dag import DAG
    from airflow.operators.python import PythonOperator

    from pipelines.build import component_nodes

    config = load_config(config_path, overrides)
    rewrite = f"python -m pipelines.schedule airflow --config {config_path} --out {fs.dirname(dag_file or '.')}"
    if config.schedule is None:
        raise ConfigError(f"{config_path}: schedule: missing; Airflow needs it", hint=f"add it, then {rewrite}")
    planned = [node for nodes in component_nodes(config).values() for node in nodes]
    # The graph's other nodes are resolvers (pipelines.build names them *_resolver; no component owns them).
    if [node for node in graph if not node.endswith("_resolver")] != planned:
        raise ConfigError(
            f"{dag_file or 'the DAG file'} was written for other components than {config_path} now has",
            hint=f"write it again: {rewrite}",
        )
    s = config.schedule
    dag = DAG(
        dag_id=config.pipeline.name,
        schedule=s.cron,
        start_date=dt.datetime.combine(s.start_date, dt.time(), tzinfo=dt.timezone.utc),
        catchup=s.catchup,
        max_active_runs=1,  # one ML Metadata SQLite file; runs of one pipeline never overlap
        default_args={"retries": s.retries, "retry_delay": dt.timedelta(minutes=s.retry_delay_minutes)},
        description=f"TFX pipeline {config.pipeline.name} from {config_path}",
        tags=["tfx", "declarative-tfx"],
    )
    tasks = {}
    for node in graph:
        tasks[node] = PythonOperator(
            task_id=node,
            python_callable=_run_node,
            op_kwargs={"config_path": config_path, "overrides": list(overrides), "node_id": node},
            dag=dag,
        )
    for node, after in graph.items():
        for upstream in after:
            tasks[node].set_upstream(tasks[upstream])
    return dag


def _run_node(config_path: str, overrides: list[str], node_id: str, **context: Any) -> None:
    from pipelines.runners.airflow_tasks import run_node

    run_node(config_path, overrides, node_id, **context)
