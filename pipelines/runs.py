"""``python -m pipelines.runs {list,show,compare,report} --config FILE``: a pipeline's run history.

``list`` shows one row per run (newest first: engine, status and why, span, blessing, pushed
version, headline metric); ``show`` one run in full (components, lineage with URIs, the gates'
findings, reports); ``compare`` what differed between two runs (config, data, schema, metrics);
``report`` writes an offline HTML index linking each run's reports. A run is its id, ``latest``
or ``latest~N``. Read from ML Metadata (``pipelines.history``); a run id that does not exist is exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config

__all__ = ["main"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.runs", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    add_config_arguments(common)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,show,compare,report}")
    ls = sub.add_parser("list", parents=[common], help="one row per run, newest first")
    ls.add_argument("--limit", type=int, metavar="N", help="show the newest N runs only")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show = sub.add_parser("show", parents=[common], help="one run in full (default: the newest)")
    show.add_argument("--run", metavar="ID", help="a run id, latest or latest~N (default: latest)")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    cmp = sub.add_parser("compare", parents=[common], help="what differed between two runs")
    cmp.add_argument("run_a", metavar="RUN_A", help="the older run: an id, latest or latest~N")
    cmp.add_argument("run_b", metavar="RUN_B", help="the newer run: an id, latest or latest~N")
    cmp.add_argument("--json", action="store_true", help="print JSON instead of text")
    rep = sub.add_parser("report", parents=[common], help="write the offline HTML index of runs")
    rep.add_argument("--out", metavar="PATH", help="where to write it (default: <pipeline.root>/reports/index.html)")
    rep.add_argument("--limit", type=int, metavar="N", help="index the newest N runs only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    from pipelines.runners.logs import quiet_libraries

    quiet_libraries(False)  # TFMA's and TensorFlow's log lines stay off the console
    logging.getLogger("absl").setLevel(logging.ERROR)
    from pipelines import history

    if args.command == "list":
        views = history.list_runs(config, args.limit)
        rows = [v.row() for v in views]
        print(json.dumps(rows, indent=2) if args.json else history.format_runs(views))
    elif args.command == "show":
        details = history.show_run(config, args.run)
        print(json.dumps(history.details_json(details), indent=2) if args.json else history.format_details(details))
    elif args.command == "compare":
        diff = history.compare_runs(config, args.run_a, args.run_b)
        print(json.dumps(history.comparison_json(diff), indent=2) if args.json else history.format_comparison(diff))
    else:
        print(f"index of runs: {history.write_index(config, args.out, args.limit)}")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
