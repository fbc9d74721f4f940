"""The offline HTML index of a pipeline's runs, linking each run's validation and evaluation reports.

One self-contained page (the reports' base template: inline CSS, no scripts, nothing fetched),
written to ``<pipeline.root>/reports/index.html`` by default. Links are relative to the page, so
the folder can be copied or served as it is.

Example:
    >>> write_index(config)
    '/abs/runs/ad_click/reports/index.html'
"""

from __future__ import annotations

import os
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.history.catalog import RunView, list_runs
from pipelines.history.show import run_reports
from pipelines.results.reports._format import DASH, fmt_metric
from pipelines.results.reports._render import render, write_report

__all__ = ["index_path", "index_rows", "render_index", "write_index"]


def index_path(config: PipelineConfig) -> str:
    """Where ``runs report`` writes the index by default."""
    return fs.join(config.pipeline.root, "reports", "index.html")


def _href(target: str, page: str) -> str:
    """``target`` as a link from the page at ``page``: relative for local files, as is for ``gs://``."""
    if fs.is_remote(target) or fs.is_remote(page):
        return target
    return os.path.relpath(os.path.abspath(target), os.path.dirname(os.path.abspath(page))).replace(os.sep, "/")


def index_rows(views: list[RunView], reports: dict[str, dict[str, str]], page: str) -> list[dict[str, Any]]:
    """The template's rows: display strings, and (report name, relative link) pairs."""
    rows = []
    for v in views:
        row = v.row()
        rows.append(
            {
                **row,
                "seconds": f"{v.seconds:.1f}",
                "span": DASH if v.span is None else str(v.span),
                "blessed": "yes" if v.blessed else "no",
                "pushed": DASH if v.pushed_version is None else str(v.pushed_version),
                "value": fmt_metric(v.headline[1]),
                "reports": [(name, _href(path, page)) for name, path in sorted(reports.get(v.run_id, {}).items())],
            }
        )
    return rows


def render_index(page: str, title: str, views: list[RunView], reports: dict[str, dict[str, str]], **info: str) -> str:
    """Write the index page for ``views`` (with each run's ``{name: path}`` reports) to ``page``; returns its path."""
    html = render(
        "runs_index.html.j2",
        kind="index",
        title=title,
        runs=index_rows(views, reports, page),
        metric=views[0].headline[0] if views else "metric",
        run_info=info,
    )
    return write_report(page, html)


def write_index(config: PipelineConfig, out: str | None = None, limit: int | None = None) -> str:
    """Write the index of the pipeline's runs (newest first, at most ``limit``) to ``out``; returns its path."""
    views = list_runs(config, limit)
    reports = {v.run_id: run_reports(config, v) for v in views}
    title = f"{config.pipeline.name}: runs"
    return render_index(out or index_path(config), title, views, reports, metadata=config.metadata_path)
