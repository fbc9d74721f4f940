"""The runs of a pipeline, one row each, read from ML Metadata (plus the run's record when it has one).

A run is named by its id (a ``pipeline_run`` context), ``latest``, or ``latest~N`` (the Nth run
before the newest, as git counts). Each row says when it started, how long it took, which engine
ran it, how it ended and why, the data span, the blessing, the pushed version and the headline
metric. The summary of a run made through ``pipelines.run`` is the one it recorded (``record.py``);
any other run's is read from ML Metadata and its artifacts (``results.summary.collect``), which
imports TensorFlow Model Analysis once when the run has an evaluation.

Example:
    >>> [(r.run_id, r.status, r.why) for r in list_runs(config, limit=2)]
    [('2026-01-31T10:05:00.000001', 'blocked', 'DataGate: area_income: drift ...'), ...]
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from components.metric_names import output_name
from pipelines.config import PipelineConfig, default_thresholds
from pipelines.errors import ConfigError
from pipelines.history.record import read_record
from pipelines.results.mlmd import RunContext, RunMetadata, artifact_property, read_run, run_contexts
from pipelines.results.summary import RunSummary, collect
from pipelines.runners.base import RunOutcome

__all__ = [
    "RunView",
    "engine_of",
    "format_runs",
    "headline_metric",
    "list_runs",
    "load_run",
    "resolve_run",
    "view_json",
    "why",
]

_AIRFLOW_RUN = re.compile(r"^(manual|scheduled|backfill|dataset_triggered|asset_triggered)__")


@dataclass
class RunView:
    """One run as the history shows it; ``summary`` is the full ``RunSummary``, ``record`` its run.json."""

    run_id: str
    started: float  # epoch seconds (the run's context creation in ML Metadata)
    seconds: float
    engine: str
    status: str
    why: str
    span: int | None
    blessed: bool
    pushed_version: int | None
    headline: tuple[str, float | None]
    summary: RunSummary
    record: dict[str, Any] | None
    metadata: RunMetadata

    @property
    def config(self) -> dict[str, Any] | None:
        """The validated config the run was made with, or None when it was not recorded."""
        return self.record.get("config") if self.record else None

    def row(self) -> dict[str, Any]:
        """The list row as JSON-ready values."""
        return {
            "run_id": self.run_id,
            "started": _iso(self.started),
            "seconds": self.seconds,
            "engine": self.engine,
            "status": self.status,
            "why": self.why,
            "span": self.span,
            "blessed": self.blessed,
            "pushed_version": self.pushed_version,
            "metric": self.headline[0],
            "value": self.headline[1],
            "config_recorded": self.record is not None,
        }


def engine_of(run_id: str, record: dict[str, Any] | None, properties: dict[str, Any]) -> str:
    """The engine recorded with the run, else inferred from its id (Airflow's ``manual__...``), else local.

    Example:
        >>> engine_of("scheduled__2026-01-31T00:00:00+00:00", None, {})
        'airflow'
    """
    recorded = (record or {}).get("engine") or properties.get("engine")
    if recorded:
        return str(recorded)
    return "airflow" if _AIRFLOW_RUN.match(run_id) else "local"


def why(summary: RunSummary) -> str:
    """One line on how the run ended: the gate and its first blocking finding, the failed component
    and its error, or the blessing and the push.

    Example:
        >>> why(RunSummary("failed", "p", "r", 1.0, [{"name": "Trainer", "status": "failed", "seconds": 1.0}]))
        'Trainer failed: error not recorded (see the engine log)'
    """
    if summary.status == "blocked":
        gate = summary.failed_component or "the data gate"
        found = [f"{a['feature']}: {a['kind']}" for a in summary.anomalies if a.get("blocking")]
        found += [
            f"{d['feature']}: drift {d['value']:.3g} > {d['threshold']:g}" for d in summary.drift if d["exceeded"]
        ]
        return f"{gate}: {found[0]}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else "") if found else gate
    if summary.status == "failed":
        where = summary.failed_component or "the engine"
        return f"{where} failed: {(summary.error or 'error not recorded (see the engine log)').splitlines()[0]}"
    if not summary.metrics and not summary.blessed:
        return "data validated (stopped before training)"
    if not summary.blessed:
        failed = sorted({f.split(":")[0] for f in summary.failed_thresholds})
        return "not blessed" + (f": {', '.join(failed)} below the bar" if failed else "")
    if summary.pushed:
        return f"blessed, pushed version {summary.pushed['version']}"
    return "blessed, not pushed" + (f": {summary.push_reason}" if summary.push_reason else "")


def headline_metric(config: PipelineConfig) -> str:
    """The metric a row shows: the first blessing threshold's (TFMA's name), else the first metric."""
    task = config.label.task
    keys = list(config.evaluation.thresholds or default_thresholds(task, max(2, len(config.label.class_names))))
    return output_name(task, (keys or list(config.evaluation.metrics))[0])


def _summary_from_record(record: dict[str, Any]) -> RunSummary:
    known = {f.name for f in fields(RunSummary)}
    return RunSummary(**{k: v for k, v in record["summary"].items() if k in known})


def _view(config: PipelineConfig, ctx: RunContext) -> RunView:
    record = read_record(config, ctx.run_id)
    metadata = read_run(config.metadata_path, config.pipeline.name, ctx.run_id)
    engine = engine_of(ctx.run_id, record, ctx.properties)
    if record is not None:
        summary = _summary_from_record(record)
    else:
        summary = collect(config, RunOutcome(ctx.run_id, engine, round(ctx.ended - ctx.started, 1)))
    spans = [artifact_property(a.mlmd, "span") for a in metadata.of_type("Examples", producer="CsvExampleGen")]
    spans = [s for s in spans if s is not None]
    name = headline_metric(config)
    return RunView(
        run_id=ctx.run_id,
        started=ctx.started,
        seconds=float(summary.seconds),
        engine=engine,
        status=summary.status,
        why=why(summary),
        span=int(max(spans)) if spans else None,
        blessed=summary.blessed,
        pushed_version=summary.pushed["version"] if summary.pushed else None,
        headline=(name, summary.metrics.get(name)),
        summary=summary,
        record=record,
        metadata=metadata,
    )


def _contexts(config: PipelineConfig) -> list[RunContext]:
    return run_contexts(config.metadata_path, config.pipeline.name)


def resolve_run(config: PipelineConfig, ref: str | None, contexts: list[RunContext] | None = None) -> RunContext:
    """The run ``ref`` names: an id, ``latest`` (also None) or ``latest~N``.

    Raises:
        ConfigError: no such run of this pipeline in its ML Metadata store (one line, exit 2).
    """
    contexts = _contexts(config) if contexts is None else contexts
    ref = ref or "latest"
    where = f"pipeline {config.pipeline.name!r} in {config.metadata_path}"
    back = re.fullmatch(r"latest(?:~(\d+))?", ref)
    if back:
        n = int(back.group(1) or 0)
        if n < len(contexts):
            return contexts[n]
        raise ConfigError(f"no run {ref!r}: {where} has {len(contexts)} run(s)")
    for ctx in contexts:
        if ctx.run_id == ref:
            return ctx
    raise ConfigError(f"no run {ref!r} of {where}; `python -m pipelines.runs list` shows the run ids")


def load_run(config: PipelineConfig, ref: str | None = None) -> RunView:
    """One run (``ref``: an id, ``latest`` or ``latest~N``; None is the newest) with its summary."""
    return _view(config, resolve_run(config, ref))


def list_runs(config: PipelineConfig, limit: int | None = None) -> list[RunView]:
    """The pipeline's runs, newest first (at most ``limit``)."""
    contexts = _contexts(config)
    return [_view(config, ctx) for ctx in contexts[: limit if limit else None]]


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def format_runs(views: list[RunView]) -> str:
    """The ``runs list`` table: one row per run, newest first; the last column says why it ended so.

    Example:
        >>> print(format_runs([]))
        no runs recorded in ML Metadata yet
    """
    if not views:
        return "no runs recorded in ML Metadata yet"
    metric = views[0].headline[0]
    header = ["run", "started", "seconds", "engine", "status", "span", "blessed", "pushed", metric, "why"]
    rows = [
        [
            v.run_id,
            _iso(v.started),
            f"{v.seconds:.1f}",
            v.engine,
            v.status,
            _cell(v.span),
            _cell(v.blessed),
            _cell(v.pushed_version),
            _cell(v.headline[1]),
            v.why,
        ]
        for v in views
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def view_json(view: RunView) -> dict[str, Any]:
    """A run's row plus its full summary, for ``--json``."""
    return {**view.row(), "summary": asdict(view.summary)}
