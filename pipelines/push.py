"""``python -m pipelines.push {list,rollback,canary,promote} --config FILE``: pushed versions, rollback, canaries.

``list`` shows every version under ``<push.serving_dir>/<model_name>/`` with its eval
metrics, its labels and its share of the unlabelled model path. ``rollback`` removes the
canary if there is one, else pins the previous version (or ``--to VERSION``) as ``stable``
in ``<push.serving_dir>/models.config``. ``canary --fraction F`` serves a second version
(``--version V``, default the newest that is not stable) under the ``canary`` label and
sends it the fraction F of unlabelled requests (``routing.json``); ``promote`` makes the
canary ``stable``. ``pipelines.serve`` and a TF Serving started with
``--model_config_file`` pick changes up at their next poll. Loads no TensorFlow and reads
no training data (the logic is in ``pipelines.serving.versions``).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.serving.versions import canary_model, promote_model, rollback_model, versions_report

__all__ = ["main"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.push", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    add_config_arguments(common)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,rollback,canary,promote}")
    ls = sub.add_parser("list", parents=[common], help="show the pushed versions, their metrics, the served ones")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rb = sub.add_parser(
        "rollback", parents=[common], help="remove the canary if any, else serve the previous version (or --to)"
    )
    rb.add_argument("--to", type=int, metavar="VERSION", help="the version to pin as stable (default: the one before)")
    cn = sub.add_parser("canary", parents=[common], help="serve a second version as 'canary' for a share of traffic")
    cn.add_argument("--version", type=int, metavar="V", help="the version to try (default: newest not stable)")
    cn.add_argument(
        "--fraction", type=float, required=True, metavar="F", help="share of unlabelled requests, in (0, 1)"
    )
    sub.add_parser("promote", parents=[common], help="make the canary 'stable' and drop the canary label")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    serving_dir, name, poll = config.push.serving_dir, config.model_name, config.serving.poll_seconds
    if args.command == "list":
        print(versions_report(serving_dir, name, as_json=args.json, config_file=args.config))
    elif args.command == "canary":
        print(canary_model(serving_dir, name, args.fraction, args.version, config_file=args.config).describe(poll))
    elif args.command == "promote":
        print(promote_model(serving_dir, name, config_file=args.config).describe(poll))
    else:
        print(rollback_model(serving_dir, name, to=args.to, config_file=args.config).describe(poll))
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
