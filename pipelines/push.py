"""``python -m pipelines.push {list,rollback} --config FILE``: the pushed versions, and rollback.

``list`` shows every version under ``<push.serving_dir>/<model_name>/`` with its eval
metrics and which one is served. ``rollback`` pins the previous version (or ``--to
VERSION``) in ``<push.serving_dir>/models.config``; ``pipelines.serve`` and a TF Serving
started with ``--model_config_file`` pick it up at their next poll. Loads no TensorFlow and
reads no training data (the logic is in ``pipelines.serving.versions``).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.serving.versions import rollback_model, versions_report

__all__ = ["main"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.push", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    add_config_arguments(common)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,rollback}")
    ls = sub.add_parser("list", parents=[common], help="show the pushed versions, their metrics, the served one")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rb = sub.add_parser("rollback", parents=[common], help="serve the previous version (or --to VERSION)")
    rb.add_argument("--to", type=int, metavar="VERSION", help="the version to serve (default: the one before)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    serving_dir, name = config.push.serving_dir, config.model_name
    if args.command == "list":
        print(versions_report(serving_dir, name, as_json=args.json, config_file=args.config))
    else:
        done = rollback_model(serving_dir, name, to=args.to, config_file=args.config)
        print(done.describe(config.serving.poll_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
