"""One run in full: each component's status and time, its artifacts, the lineage, the gates' findings, reports.

The lineage follows the flow of a run, data -> schema -> statistics -> gate verdict -> transform
graph -> model -> evaluation -> blessing -> pushed version, each step the artifact of this run
(made or reused from the cache) with its URI. The components table, the anomalies, drift and
metrics are the run summary's own table (``results.summary.format_table``).

Example:
    >>> details = show_run(config)  # the newest run
    >>> [(step.name, step.uri) for step in details.lineage][:1]
    [('data', '/abs/runs/ad_click/CsvExampleGen/examples/1')]
    >>> print(format_details(details))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.history.catalog import RunView, load_run, view_json
from pipelines.history.record import record_path
from pipelines.results.mlmd import Artifact, artifact_property
from pipelines.results.reports.write import report_path
from pipelines.results.summary import format_table

__all__ = ["LINEAGE", "LineageStep", "RunDetails", "details_json", "format_details", "run_reports", "show_run"]

# (step, MLMD type, producing node): the order a run makes them in.
LINEAGE: tuple[tuple[str, str, str], ...] = (
    ("data", "Examples", "CsvExampleGen"),
    ("schema", "Schema", "ImportSchemaGen"),
    ("statistics", "ExampleStatistics", "StatisticsGen"),
    ("anomalies", "ExampleAnomalies", "ExampleValidator"),
    ("data gate", "ValidationVerdict", "DataGate"),
    ("transform graph", "TransformGraph", "Transform"),
    ("transform gate", "ValidationVerdict", "TransformGate"),
    ("model", "Model", "Trainer"),
    ("evaluation", "ModelEvaluation", "Evaluator"),
    ("blessing", "ModelBlessing", "Evaluator"),
    ("pushed", "PushedModel", "Pusher"),
)


@dataclass(frozen=True)
class LineageStep:
    """One step of the lineage: the artifact's URI and what it says (span, passed, blessed, version)."""

    name: str
    type_name: str
    uri: str
    note: str = ""


@dataclass
class RunDetails:
    """What ``runs show`` prints: the run, its lineage, its other artifacts, its reports and record."""

    view: RunView
    lineage: list[LineageStep] = field(default_factory=list)
    other_artifacts: list[tuple[str, str | None, str]] = field(default_factory=list)  # (type, producer, uri)
    reports: dict[str, str] = field(default_factory=dict)
    record: str | None = None  # the run.json path, when the run has one


def _note(step: str, artifact: Artifact) -> str:
    def prop(key: str) -> Any:
        return artifact_property(artifact.mlmd, key)

    if step == "data" and prop("span") is not None:
        return f"span {prop('span')}"
    if step.endswith("gate") and prop("passed") is not None:
        return "passed" if prop("passed") == 1 else "blocked"
    if step == "blessing" and prop("blessed") is not None:
        return "blessed" if prop("blessed") == 1 else "not blessed"
    if step == "pushed" and prop("pushed") is not None:
        return f"version {prop('pushed_version')}" if prop("pushed") == 1 else "not pushed"
    return ""


def show_run(config: PipelineConfig, run_id: str | None = None) -> RunDetails:
    """The run ``run_id`` names (an id, ``latest``, ``latest~N``; None is the newest) in full.

    Raises:
        ConfigError: no such run (exit 2).
    """
    view = load_run(config, run_id)
    details = RunDetails(view)
    used: set[int] = set()
    for step, type_name, producer in LINEAGE:
        for art in view.metadata.of_type(type_name, producer=producer)[-1:]:
            details.lineage.append(LineageStep(step, type_name, art.uri, _note(step, art)))
            used.add(art.mlmd.id)
    details.other_artifacts = [
        (a.type_name, a.producer, a.uri) for a in view.metadata.artifacts if a.mlmd.id not in used
    ]
    details.reports = run_reports(config, view)
    view.summary.reports = details.reports  # format_table prints them
    details.record = record_path(config, view.run_id) if view.record is not None else None
    return details


def run_reports(config: PipelineConfig, view: RunView) -> dict[str, str]:
    """The run's HTML reports that exist: those its summary names, else those at their usual paths."""
    reports = dict(view.summary.reports)
    for name in ("validation", "evaluation"):
        reports.setdefault(name, report_path(config, view.run_id, name))
    return {name: path for name, path in reports.items() if fs.exists(path)}


def format_details(details: RunDetails) -> str:
    """The ``runs show`` text."""
    v = details.view
    lines = [
        f"run {v.run_id}",
        f"engine: {v.engine}   started: {v.row()['started']}   seconds: {v.seconds:.1f}",
        f"status: {v.status} ({v.why})",
        format_table(v.summary).rstrip("\n"),  # with the tuner's trials when the run was tuned
    ]
    lines.append("")
    lines.append("lineage:")
    width = max([len(s.name) for s in details.lineage] + [4])
    for s in details.lineage:
        lines.append(f"  {s.name:<{width}}  {s.uri}" + (f"  ({s.note})" if s.note else ""))
    if not details.lineage:
        lines.append("  no artifacts recorded for this run")
    if details.other_artifacts:
        lines.append("other artifacts:")
        for type_name, producer, uri in details.other_artifacts:
            lines.append(f"  {type_name} ({producer or 'resolved'}): {uri}")
    lines.append(f"config: {details.record}" if details.record else "config: not recorded (not run by pipelines.run)")
    if not details.reports:
        lines.append("reports: none for this run")
    return "\n".join(lines)


def details_json(details: RunDetails) -> dict[str, Any]:
    """``runs show --json``: the row, the summary, the lineage, other artifacts, reports and the record's path."""
    return {
        **view_json(details.view),
        "lineage": [asdict(s) for s in details.lineage],
        "other_artifacts": [{"type": t, "producer": p, "uri": u} for t, p, u in details.other_artifacts],
        "reports": details.reports,
        "record": details.record,
        "config": details.view.config,
    }
