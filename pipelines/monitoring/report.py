"""A monitoring pass written down: ``monitor-<time>.json``, an offline HTML report, and the console table.

The HTML report is the validation report's kind of page (``pipelines/results/reports``: one
self-contained file, autoescaped Jinja, written atomically through the filesystem seam).
"""

from __future__ import annotations

import json
import time
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.monitoring.job import MonitorResult

__all__ = ["format_table", "render_html", "report_dir", "write_reports"]


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def report_dir(config: PipelineConfig) -> str:
    return config.monitoring.report_dir or fs.join(config.pipeline.root, "monitoring")


def _group_rows(result: MonitorResult) -> list[dict[str, Any]]:
    rows = []
    for g in result.groups:
        live = g.get("live") or {}
        rows.append(
            {
                "version": g["version"],
                "label": g["label"],
                "rows": g["rows"],
                "prediction_mean": _num(g["prediction_mean"]),
                "live_value": f"{live['metric']} {_num(live['value'])}" if live else "-",
                "labelled": live.get("labelled", "-"),
                "evaluation": _num(live.get("evaluation")) if live else "-",
            }
        )
    return rows


def _measures(result: MonitorResult, kind: str) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "version": g["version"],
            "label": g["label"],
            "value": _num(r["value"]),
            "threshold": f"{r['threshold']:g}",
        }
        for g in result.groups
        for r in g[kind]
    ]


def render_html(path: str, result: MonitorResult, title: str) -> str:
    from pipelines.results.reports._render import render, write_report

    canary = None
    if result.canary:
        c = result.canary
        canary = {
            **{k: _num(v) if isinstance(v, float) else v for k, v in c.items()},
            "interval": f"{c['confidence']:.0%} interval {_num(c['low'])} .. {_num(c['high'])}",
        }
    until = "now" if result.until is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(result.until))
    info = {
        "model": result.model,
        "request log": result.log_path,
        "window (UTC)": f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(result.since))} .. {until}",
        "requests": f"{result.rows} (previous window: {result.previous_rows})",
    }
    if result.actions:
        info["actions"] = "; ".join(result.actions)
    text = render(
        "monitoring.html.j2",
        kind="monitoring",
        title=title,
        run_info=info,
        alerts=result.alerts,
        groups=_group_rows(result),
        canary=canary,
        measures=[
            ("Skew versus training", _measures(result, "skew")),
            ("Drift versus the previous window", _measures(result, "drift")),
        ],
        notes=result.notes,
        problems=result.problems,
    )
    return write_report(path, text)


def write_reports(config: PipelineConfig, result: MonitorResult, json_path: str | None = None) -> dict[str, str]:
    """Write the JSON result and the HTML report; returns {json, html: path}."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    folder = report_dir(config)
    html = render_html(fs.join(folder, f"monitor-{stamp}.html"), result, f"{result.model}: monitoring")
    result.reports = {"json": json_path or fs.join(folder, f"monitor-{stamp}.json"), "html": html}
    fs.write_text(result.reports["json"], json.dumps(result.to_dict(), indent=2, default=float))
    return result.reports


def format_table(result: MonitorResult) -> str:
    """The short console table: one line per served version and label, then the alerts."""
    head = f"{'version':>10}  {'label':<8} {'requests':>8}  {'skew':<14} {'drift':<14} live"
    lines = [head]
    for g in result.groups:
        cells = []
        for kind in ("skew", "drift"):
            rows = g[kind]
            bad = [r["feature"] for r in rows if r["exceeded"]]
            cells.append(("-" if not rows else f"{len(bad)} exceeded" if bad else "ok")[:14])
        live = g.get("live")
        live_cell = f"{live['metric']} {_num(live['value'])} (n={live['labelled']})" if live else "-"
        lines.append(f"{g['version']:>10}  {g['label']:<8} {g['rows']:>8}  {cells[0]:<14} {cells[1]:<14} {live_cell}")
    if result.canary:
        c = result.canary
        lines.append(
            f"canary {c['version']} vs stable {c['stable_version']}: {c['verdict']} by {c['difference']:+.3f} "
            f"{c['metric']} ({c['confidence']:.0%} interval {c['low']:+.3f} .. {c['high']:+.3f})"
        )
    lines += [f"skipped: {p}" for p in result.problems]
    lines += [f"note: {n}" for n in result.notes]
    lines += [f"action: {a}" for a in result.actions]
    return "\n".join(lines)
