"""One monitoring pass over a window of the request log: skew, drift, live accuracy, canary, alerts.

request log ──read_log_table──> rows in [since, until)     rows in [since - window, since)
    per (version, label):  statistics ── skew vs the version's training statistics (ML Metadata)
                                      └─ drift vs the same group in the previous window
                           + delayed labels ── live metric vs the push-time evaluation
    canary vs stable on the joined labels ── ahead | behind | level (bootstrap interval)
alerts: every bound crossed, one line each, naming the version, label and feature
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.config import PipelineConfig
from pipelines.errors import ConfigError
from pipelines.monitoring.logs import PREDICTION, read_log_table

__all__ = ["MonitorResult", "monitor"]


@dataclass
class MonitorResult:
    """The JSON result of a pass (``asdict`` is what ``monitor.json`` holds)."""

    model: str
    log_path: str
    since: float
    until: float | None
    rows: int
    previous_rows: int
    groups: list[dict[str, Any]] = field(default_factory=list)
    canary: dict[str, Any] | None = None
    alerts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _schema(config: PipelineConfig, run_id: str | None) -> Any:
    from components.schema_file import read_schema

    if config.schema_.path:
        return read_schema(config.schema_.path)
    from pipelines.results.mlmd import read_run

    found = read_run(config.metadata_path, config.pipeline.name, run_id).of_type("Schema") if run_id else []
    if not found:
        return None
    from components import filesystem as fs

    return read_schema(fs.join(found[-1].uri, "schema.pbtxt"))


def _group_rows(frame: Any) -> dict[tuple[int, str], Any]:
    if not len(frame):
        return {}
    return {(int(v), str(lab)): g for (v, lab), g in frame.groupby(["version", "label"], sort=True)}


def monitor(
    config: PipelineConfig, since: float | None = None, until: float | None = None, labels: str | None = None
) -> MonitorResult:
    """Monitor ``config``'s request log (``serving.logging.path``) over ``[since, until)`` (epoch seconds).

    Without ``since`` the window is the last ``monitoring.window_hours`` before the newest record.

    Raises:
        ConfigError: ``serving.logging.path`` is unset, or the labels cannot be read.
    """
    from pipelines.monitoring.baseline import load_baseline
    from pipelines.monitoring.compare import drift_rows, skew_rows, window_statistics, without
    from pipelines.monitoring.live import compare_canary, join_labels, live_metric, metric_name, read_labels

    path = config.serving.logging.path
    if not path:
        raise ConfigError(
            "serving.logging.path is not set: there is no request log to monitor",
            hint="set serving.logging.path in the YAML (a folder, local or gs://) and serve with it",
        )
    mon = config.monitoring
    window = mon.window_hours * 3600
    table = read_log_table(path, None, until)
    frame = table.frame
    if since is None:
        since = float(frame["time"].max()) + 1 - window if len(frame) else time.time() - window
    current = frame[frame["time"] >= since] if len(frame) else frame
    previous = frame[(frame["time"] < since) & (frame["time"] >= since - window)] if len(frame) else frame
    model = config.push.model_name or config.pipeline.name
    result = MonitorResult(model, path, since, until, len(current), len(previous), problems=list(table.problems))
    if not len(current):
        result.notes.append(f"no logged requests in the window in {path}")
        return result
    features = [f for f in config.features if f in current.columns]
    label_col = config.label.column
    task = config.label.task
    name, higher = metric_name(task)
    joined = join_labels(current, read_labels(labels), config) if labels else None
    previous_groups = _group_rows(previous)
    by_group: dict[tuple[int, str], Any] = {}
    for (version, label), rows in _group_rows(current).items():
        base = load_baseline(config, version)
        schema = _schema(config, base.run_id)
        group: dict[str, Any] = {"version": version, "label": label, "rows": len(rows), "run_id": base.run_id}
        stats = window_statistics(rows, [*features, PREDICTION])
        group["prediction_mean"] = float(rows[PREDICTION].mean())
        group["skew"], group["drift"] = [], []
        if base.note:
            result.notes.append(base.note)
        if base.statistics is not None and schema is not None:
            group["skew"] = skew_rows(schema, base.statistics, without(stats, PREDICTION), label_col, mon)
        prev = previous_groups.get((version, label))
        if prev is not None and schema is not None:
            prev_stats = window_statistics(prev, [*features, PREDICTION])
            group["drift"] = drift_rows(schema, stats, prev_stats, label_col, mon)
        elif prev is None:
            result.notes.append(f"version {version} ({label}): no requests in the previous window: drift not measured")
        for kind in ("skew", "drift"):
            for row in group[kind]:
                if row["exceeded"] and row["feature"] != PREDICTION:  # prediction drift: reported, not an alert
                    result.alerts.append(
                        f"version {version} ({label}): {kind} of {row['feature']} {row['measure']} "
                        f"{row['value']:.3f} > {row['threshold']:g}"
                    )
        if joined is not None:
            mine = joined[(joined["version"] == version) & (joined["label"] == label)]
            by_group[(version, label)] = mine
            live = live_metric(task, mine["truth"].to_numpy(), mine[PREDICTION].to_numpy()) if len(mine) else None
            evaluated = base.metrics.get(name)
            group["live"] = {"metric": name, "value": live, "labelled": len(mine), "evaluation": evaluated}
            if live is not None and evaluated is not None and len(mine) >= mon.min_labelled:
                gap = (evaluated - live) if higher else (live - evaluated)
                group["live"]["below_evaluation"] = gap > mon.live_margin
                if gap > mon.live_margin:
                    result.alerts.append(
                        f"version {version} ({label}): live {name} {live:.3f} is {gap:.3f} worse than its "
                        f"evaluation {evaluated:.3f} (monitoring.live_margin {mon.live_margin:g})"
                    )
        result.groups.append(group)
    stable = [g for (v, lab), g in by_group.items() if lab in ("stable", "-")]
    canary = [g for (v, lab), g in by_group.items() if lab == "canary"]
    if stable and canary:
        s, c = stable[0], canary[0]
        if min(len(s), len(c)) < mon.min_labelled:
            result.notes.append(
                f"canary vs stable not judged: {len(c)} and {len(s)} labelled predictions "
                f"(monitoring.min_labelled {mon.min_labelled})"
            )
        else:
            cmp = compare_canary(s, c, task, mon.confidence)
            result.canary = {
                "version": int(c["version"].iloc[0]),
                "stable_version": int(s["version"].iloc[0]),
                **asdict(cmp),
            }
            if cmp.verdict == "behind":
                result.alerts.append(
                    f"canary version {result.canary['version']} is behind stable on live {name}: "
                    f"{cmp.difference:+.3f} ({cmp.confidence:.0%} interval {cmp.low:+.3f} .. {cmp.high:+.3f})"
                )
    return result
