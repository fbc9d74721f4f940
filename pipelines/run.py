"""``python -m pipelines.run --config FILE [--set key=value ...] [--summary PATH]``.

Validates the config (exit 2 on any problem, before TensorFlow loads), runs the
pipeline with LocalDagRunner, prints a progress line per component and a summary
table, and writes the summary as JSON. Exit 0 when the run succeeded (blessed or
not), 1 when a component failed, 3 when the validation gate stopped the data.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict

from pipelines.cli import main_guard
from pipelines.config import load_config


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="pipeline YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set trainer.train_steps=500 (repeatable)")
    parser.add_argument("--summary", metavar="PATH", help="also write the run summary as JSON here")
    parser.add_argument("--until", choices=["validate"],
                        help="stop after this stage: 'validate' runs ingestion through the data gate (daily data check)")
    parser.add_argument("--verbose", action="store_true", help="show TFX/TensorFlow logs on the console")
    parser.add_argument("--no-fast-path", action="store_true",
                        help="run through TFX even when nothing changed since the last successful run")
    return parser.parse_args(argv)


def write_summary(path: str, text: str) -> None:
    """Write atomically: a reader never sees half a summary."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    print(f"pipeline {config.pipeline.name}: {config.data.source} -> "
          f"{os.path.join(config.push.serving_dir, config.model_name)}", flush=True)

    if not args.no_fast_path and report_unchanged(config, args):
        return 0

    from pipelines.data.preflight import preflight
    from pipelines.errors import PreflightError

    try:
        files = preflight(config)
    except PreflightError as exc:
        if args.summary:
            write_summary(args.summary, blocked_summary(config, exc).to_json())
        raise
    print(f"input: {len(files)} file(s) checked", flush=True)

    from pipelines.runners.local import raise_if_failed, run_local
    from pipelines.results.summary import collect, format_table

    from pipelines.results.reports.write import write_reports

    record = run_local(config, until=args.until, verbose=args.verbose)
    summary = collect(config, record)
    summary.reports = write_reports(config, summary)
    print(format_table(summary), flush=True)
    if args.summary:
        write_summary(args.summary, summary.to_json())
    raise_if_failed(record)
    if summary.status == "succeeded":
        from pipelines.results.records import record_success

        record_success(config, args.until, asdict(summary))
    return 0


def report_unchanged(config, args: argparse.Namespace) -> bool:  # noqa: ANN001 - PipelineConfig
    """When nothing changed since the last successful run, report it without starting TFX."""
    from pipelines.results.records import cached_summary
    from pipelines.results.summary import RunSummary, format_table

    cached = cached_summary(config, args.until)
    if cached is None:
        return False
    summary = RunSummary(**cached)
    width = max(len(c["name"]) for c in summary.components)
    for i, c in enumerate(summary.components, start=1):
        print(f"[{i}/{len(summary.components)}] {c['name']:<{width}}  {c['status']:<7} {0.0:6.1f} s")
    print(format_table(summary))
    print(f"nothing changed since run {summary.run_id}: every component would be cached, TFX was not started "
          "(--no-fast-path runs it anyway)", flush=True)
    if args.summary:
        write_summary(args.summary, summary.to_json())
    return True


def blocked_summary(config, exc):  # noqa: ANN001, ANN201 - (PipelineConfig, PreflightError) -> RunSummary
    """The summary of a run stopped before TFX started: every component skipped."""
    from pipelines.build import component_names
    from pipelines.results.summary import RunSummary

    return RunSummary(
        status="blocked", pipeline=config.pipeline.name, run_id=None, seconds=0.0, task=config.label.task,
        components=[{"name": n, "status": "skipped", "seconds": 0.0} for n in component_names(config)],
        anomalies=[p.to_anomaly() for p in exc.problems], error=str(exc).splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main_guard(main))
