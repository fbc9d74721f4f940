"""``python -m pipelines.monitor --config FILE [--since T] [--until T] [--labels PATH]``: watch served traffic.

Reads the request log under ``serving.logging.path``, compares each served version's inputs
with its training statistics (skew) and with the previous window (drift), joins delayed
labels for live accuracy and judges a canary against ``stable``. Writes a JSON result and an
HTML report (``monitoring.report_dir``), prints a table, and exits 0 when every measure is
within its bound, 4 when any is not. ``--rollback-if-worse`` / ``--promote-if-better`` act on
the canary through ``pipelines.push``'s functions; ``--retrain`` starts a pipeline run whose
summary records the alerts that triggered it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ConfigError, MonitoringAlertError

__all__ = ["main", "parse_time"]


def parse_time(value: str | None, flag: str) -> float | None:
    """Epoch seconds from ``2026-12-01T10:00:00`` (UTC unless an offset is given) or a number of seconds."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{flag} {value!r}: not a time; use e.g. 2026-12-01T10:00:00 (UTC) or epoch seconds") from exc
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.monitor", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser)
    parser.add_argument("--since", help="window start (default: monitoring.window_hours before the newest record)")
    parser.add_argument("--until", help="window end (default: now)")
    parser.add_argument("--labels", metavar="PATH", help="CSV file or folder of request_id,label (delayed labels)")
    parser.add_argument("--json", metavar="PATH", help="also write the JSON result here")
    acts = parser.add_mutually_exclusive_group()
    acts.add_argument("--rollback-if-worse", action="store_true", help="remove the canary when it is behind stable")
    acts.add_argument("--promote-if-better", action="store_true", help="promote the canary when it is ahead")
    parser.add_argument("--retrain", action="store_true", help="start a pipeline run when a bound is crossed")
    parser.add_argument("--retrain-summary", metavar="PATH", help="with --retrain: the run's summary JSON")
    args = parser.parse_args(argv)
    if args.retrain_summary and not args.retrain:
        parser.error("--retrain-summary needs --retrain")
    return args


def _act_on_canary(config: PipelineConfig, args: argparse.Namespace, canary: dict | None) -> list[str]:
    from pipelines.serving.versions import promote_model, rollback_model

    if not canary:
        return []
    serving_dir, name = config.push.serving_dir, config.model_name
    if args.rollback_if_worse and canary["verdict"] == "behind":
        rollback_model(serving_dir, name, config_file=args.config)
        return [f"rolled back canary version {canary['version']} (behind stable)"]
    if args.promote_if_better and canary["verdict"] == "ahead":
        promote_model(serving_dir, name, config_file=args.config)
        return [f"promoted canary version {canary['version']} to stable (ahead)"]
    return []


def retrain(config: PipelineConfig, alerts: list[str], summary_path: str | None) -> str:
    """Start a pipeline run (the configured runner) recording ``alerts`` as its trigger; its status line."""
    from pipelines.execute import RunOptions, run_pipeline

    trigger = {"by": "pipelines.monitor", "alerts": list(alerts)}
    summary = run_pipeline(config, RunOptions(fast_path=False, summary_path=summary_path, trigger=trigger))
    return f"retrain run {summary.run_id}: {summary.status}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    from pipelines.monitoring import format_table, monitor, write_reports

    result = monitor(config, since, until, labels=args.labels)
    result.actions += _act_on_canary(config, args, result.canary)
    if args.retrain and result.alerts:
        result.actions.append("retrain started")
    reports = write_reports(config, result, args.json)
    print(format_table(result))
    print(f"report: {reports['html']}\nresult: {reports['json']}", flush=True)
    if args.retrain and result.alerts:
        print(retrain(config, result.alerts, args.retrain_summary), flush=True)
    if result.alerts:
        raise MonitoringAlertError(
            result.alerts, hint="the report names each bound; they are under monitoring: in the YAML"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
