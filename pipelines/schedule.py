"""``python -m pipelines.schedule [airflow] --config FILE --out DIR``: the config's pipeline as a scheduled DAG.

Writes ``DIR/<pipeline>_dag.py``, an Airflow DAG built from the config with TFX's
AirflowDagRunner (one task per pipeline node) on the config's ``schedule``. Copy it (or point
Airflow's ``dags_folder``) where Airflow reads DAGs. The engine defaults to the config's
``runner``. Exit 2 on a bad config, a missing ``schedule`` section or a missing Airflow extra.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.errors import ConfigError

__all__ = ["SCHEDULERS", "main"]

# Engines that schedule (``pipelines.runners.ENGINES`` names every engine); vertex joins with issue 13.
SCHEDULERS = ("airflow",)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "engine", nargs="?", choices=SCHEDULERS, help="the scheduler to write for (default: the config's runner)"
    )
    add_config_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the DAG file into")
    parser.add_argument("--verbose", action="store_true", help="show TFX/Airflow logs while the pipeline is built")
    return parser.parse_args(argv)


def _installed_first() -> None:
    """Look in the working directory last: `python -m` puts it first on ``sys.path``, where a folder
    named ``airflow/`` (a common AIRFLOW_HOME) would shadow the installed Airflow that TFX imports.
    Modules named in the config (a user's ``run_fn``) still import from it."""
    here = {"", os.getcwd()}
    sys.path[:] = [p for p in sys.path if p not in here] + [p for p in sys.path if p in here]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _installed_first()
    config = load_config(args.config, args.overrides)
    engine = args.engine or config.runner
    if engine not in SCHEDULERS:
        raise ConfigError(
            f"{args.config}: runner: {engine!r} runs here, it has no schedule",
            hint=f"name the scheduler: python -m pipelines.schedule {SCHEDULERS[0]} --config {args.config} --out DIR",
        )
    from pipelines.runners import runner_class
    from pipelines.runners.logs import quiet_libraries

    runner = runner_class(engine)()
    started = time.monotonic()
    quiet_libraries(args.verbose)
    if not args.verbose:
        logging.disable(logging.INFO)  # TFX and Airflow log every step of the build
    try:
        path = runner.write_dag(config, args.config, list(args.overrides), args.out)
    finally:
        logging.disable(logging.NOTSET)
    s = config.schedule
    print(f"wrote {path} ({time.monotonic() - started:.1f}s)")
    print(
        f"  dag_id {config.pipeline.name}, schedule {s.cron!r} from {s.start_date}, catchup {s.catchup}, "
        f"retries {s.retries}"
    )
    print(f"  test it:  airflow dags test {config.pipeline.name} <date>   (then: python -m pipelines.runs show)")
    print("  deploy:   copy it into the dags_folder of the Airflow that runs it")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
