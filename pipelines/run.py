"""``python -m pipelines.run --config FILE [--set key=value ...] [--summary PATH]``.

Validates the config (exit 2 on any problem, before TensorFlow loads), runs the
pipeline with LocalDagRunner, prints a progress line per component and a summary
table, and writes the summary as JSON. Exit 0 when the run succeeded (blessed or
not), 1 when a component failed, 3 when the validation gate stopped the data.
"""

from __future__ import annotations

import argparse
import sys

from components import filesystem as fs
from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.config.schedule import RUNNERS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser)
    parser.add_argument("--summary", metavar="PATH", help="also write the run summary as JSON here")
    parser.add_argument(
        "--until",
        choices=["validate"],
        help="stop after this stage: 'validate' runs ingestion through the data gate (daily data check)",
    )
    parser.add_argument("--verbose", action="store_true", help="show TFX/TensorFlow logs on the console")
    parser.add_argument("--runner", choices=RUNNERS, help="the engine, over the config's `runner` (default: local)")
    parser.add_argument(
        "--compile-only", metavar="OUT.json", help="vertex: write the compiled PipelineJob here and submit nothing"
    )
    parser.add_argument("--schedule", metavar="CRON", help="vertex: create a schedule (default: the config's cron)")
    parser.add_argument(
        "--no-fast-path",
        action="store_true",
        help="run through TFX even when nothing changed since the last successful run",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    print(
        f"pipeline {config.pipeline.name}: {config.data.source} -> "
        f"{fs.join(config.push.serving_dir, config.model_name)}",
        flush=True,
    )

    runner = args.runner or config.runner
    if runner == "vertex" or args.compile_only or args.schedule:
        from pipelines.runners.vertex import main as vertex_main

        return vertex_main(config, runner, args.compile_only, args.schedule)

    from pipelines.execute import RunOptions, run_pipeline
    from pipelines.results.summary import format_table

    summary = run_pipeline(
        config,
        RunOptions(
            until=args.until,
            verbose=args.verbose,
            fast_path=not args.no_fast_path,
            summary_path=args.summary,
            engine=args.runner,
        ),
    )
    print(format_table(summary), flush=True)
    summary.raise_for_status()
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
