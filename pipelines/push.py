"""``python -m pipelines.push {list,rollback} --config FILE``: the pushed versions, and rollback.

``list`` shows every version under ``<push.serving_dir>/<model_name>/`` with its eval
metrics and which one is served. ``rollback`` pins the previous version (or ``--to
VERSION``) in ``<push.serving_dir>/models.config``; ``pipelines.serve`` and a TF Serving
started with ``--model_config_file`` pick it up at their next poll. Loads no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from components import serving_layout
from pipelines.cli import main_guard
from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ServingError

__all__ = ["main", "format_versions"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.push", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", required=True, help="pipeline YAML file")
    common.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,rollback}")
    ls = sub.add_parser("list", parents=[common], help="show the pushed versions, their metrics, the served one")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rb = sub.add_parser("rollback", parents=[common], help="serve the previous version (or --to VERSION)")
    rb.add_argument("--to", type=int, metavar="VERSION", help="the version to serve (default: the one before)")
    return parser.parse_args(argv)


def _model_dir(config: PipelineConfig) -> str:
    return os.path.join(config.push.serving_dir, config.model_name)


def _versions(config: PipelineConfig) -> list[serving_layout.VersionInfo]:
    try:
        versions = serving_layout.list_versions(config.push.serving_dir, config.model_name)
    except serving_layout.LayoutError as exc:
        raise ServingError(str(exc)) from exc
    if not versions:
        raise ServingError(f"model {config.model_name!r} has no pushed versions under {_model_dir(config)}",
                           hint="run the pipeline to push one: python -m pipelines.run --config FILE")
    return versions


def format_versions(model_name: str, model_dir: str, versions: list[serving_layout.VersionInfo]) -> str:
    """The ``list`` table, newest version first."""
    lines = [f"model {model_name}: {model_dir}", "",
             f"  {'version':<12} {'pushed (local time)':<20} {'served':<8} metrics"]
    for v in sorted(versions, key=lambda v: v.version, reverse=True):
        pushed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.pushed_at))
        served = ("yes" if v.served else "") + (f" ({','.join(v.labels)})" if v.labels else "")
        shown = ", ".join(f"{k}={m:.4f}" for k, m in sorted(v.metrics.items())) or "-"
        lines.append(f"{'*' if v.served else ' '} {v.version:<12} {pushed:<20} {served:<8} {shown}")
    return "\n".join(lines)


def _as_json(versions: list[serving_layout.VersionInfo]) -> list[dict[str, Any]]:
    return [{"version": v.version, "path": v.path, "served": v.served, "labels": list(v.labels),
             "metrics": dict(v.metrics), "pushed_at": v.pushed_at} for v in versions]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    serving_dir, name = config.push.serving_dir, config.model_name
    versions = _versions(config)
    if args.command == "list":
        print(json.dumps(_as_json(versions), indent=2) if args.json else
              format_versions(name, _model_dir(config), versions))
        return 0

    try:
        now, before = serving_layout.rollback(serving_dir, name, to=args.to)
    except serving_layout.LayoutError as exc:
        raise ServingError(str(exc), hint="`python -m pipelines.push list --config FILE` shows the versions") from exc
    config_path = os.path.join(serving_dir, serving_layout.CONFIG_FILE)
    if now == before:
        print(f"{name}: already serving version {now}; rewrote {config_path}")
    else:
        print(f"{name}: now serving version {now} (was {before}); pinned as 'stable' in {config_path}")
    print(f"  pipelines.serve picks it up within {config.serving.poll_seconds:g} s (serving.poll_seconds); "
          f"TF Serving within its --model_config_file_poll_wait_seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
