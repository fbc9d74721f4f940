"""Read a finished run's results from ML Metadata -> summary table, JSON and exit status.

Everything is found through MLMD (the run's ``pipeline_run`` context and the
artifacts attributed to it), never through guessed paths.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.config import PipelineConfig
from pipelines.runners.local import RunRecord


@dataclass
class RunSummary:
    status: str  # succeeded | failed | blocked
    pipeline: str
    run_id: str | None
    seconds: float
    components: list[dict[str, Any]]
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    skew: list[dict[str, Any]] = field(default_factory=list)
    task: str = "binary"  # binary | multiclass | regression
    # Overall-slice metrics by TFMA name (auc, binary_accuracy, mean_absolute_error, r_squared...);
    # per-class ones as precision[<class>].
    metrics: dict[str, float] = field(default_factory=dict)
    slices: dict[str, dict[str, float]] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    blessed: bool = False
    failed_thresholds: list[str] = field(default_factory=list)
    pushed: dict[str, Any] | None = None
    push_reason: str | None = None  # why nothing was pushed (not blessed, infra validation failed)
    error: str | None = None
    log_path: str | None = None
    reports: dict[str, str] = field(default_factory=dict)
    engine: str = "tfx"  # "fast-path": nothing changed since the recorded run, TFX was not started
    artifacts: dict[str, str] = field(default_factory=dict)  # statistics, baseline_statistics, evaluation URIs

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)


def _store(metadata_path: str) -> Any:
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    cfg = metadata_store_pb2.ConnectionConfig()
    cfg.sqlite.filename_uri = metadata_path
    cfg.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(cfg)


def _latest_run_artifacts(store: Any, run_id: str | None = None) -> tuple[str | None, dict[str, list[Any]]]:
    """(run id, artifacts by type name) of the named pipeline run, or the latest one."""
    runs = store.get_contexts_by_type("pipeline_run")
    if run_id is not None:
        runs = [c for c in runs if c.name == run_id]
    if not runs:
        return None, {}
    run = max(runs, key=lambda c: (c.create_time_since_epoch, c.id))
    by_type: dict[str, list[Any]] = {}
    types = {t.id: t.name for t in store.get_artifact_types()}
    for art in store.get_artifacts_by_context(run.id):
        by_type.setdefault(types.get(art.type_id, "?"), []).append(art)
    for arts in by_type.values():
        arts.sort(key=lambda a: a.id)
    return run.name, by_type


def run_artifacts(config: PipelineConfig, run_id: str | None = None) -> tuple[str | None, dict[str, list[Any]]]:
    """(run id, artifacts by type name) of a pipeline run (default: the latest), from ML Metadata.

    Example:
        >>> run_id, arts = run_artifacts(load_config("configs/ad_click.yaml"))
        >>> arts["ModelEvaluation"][-1].uri
    """
    if not os.path.exists(config.metadata_path):
        return None, {}
    return _latest_run_artifacts(_store(config.metadata_path), run_id)


def _prop(artifact: Any, key: str) -> Any:
    value = artifact.custom_properties.get(key)
    if value is None:
        return None
    which = value.WhichOneof("value")
    return getattr(value, which) if which else None


def read_verdict(uri: str) -> dict[str, Any]:
    from components.gate import VERDICT_FILE

    path = os.path.join(uri, VERDICT_FILE)
    if not os.path.exists(path):
        return {"anomalies": []}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_evaluation(uri: str) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], list[str]]:
    """(metrics by slice, baseline diffs by slice, failed threshold messages) from a ModelEvaluation."""
    import tensorflow_model_analysis as tfma

    from components.evaluation_results import read_metrics, split_diffs

    metrics, diffs = split_diffs(read_metrics(uri))
    failed: list[str] = []
    try:
        validation = tfma.load_validation_result(uri)
    except Exception:  # noqa: BLE001 - no validation file when no thresholds are set
        validation = None
    if validation is not None and not validation.validation_ok:
        for per_slice in validation.metric_validations_per_slice:
            for failure in per_slice.failures:
                failed.append(f"{failure.metric_key.name}: {failure.message}".strip())
    return metrics, diffs, failed


def _class_names(by_slice: dict[str, dict[str, float]], classes: list[str]) -> dict[str, dict[str, float]]:
    """``precision[classId:1]`` -> ``precision[ibis]``: per-class metrics named by the label value."""
    def rename(metric: str) -> str:
        m = re.fullmatch(r"(.*)\[classId:(\d+)\]", metric)
        return f"{m.group(1)}[{classes[int(m.group(2))]}]" if m and int(m.group(2)) < len(classes) else metric

    return {s: {rename(k): v for k, v in metrics.items()} for s, metrics in by_slice.items()}


def collect(config: PipelineConfig, record: RunRecord, *, status: str | None = None) -> RunSummary:
    """Assemble the summary of the run just finished from ``record`` and ML Metadata."""
    run_id, arts = run_artifacts(config)
    if status is None:
        status = "blocked" if record.blocked is not None else "failed" if record.error else "succeeded"
    summary = RunSummary(
        status=status,
        pipeline=config.pipeline.name,
        run_id=run_id,
        seconds=round(record.seconds, 1),
        task=config.label.task,
        components=[{"name": c.name, "status": c.status, "seconds": round(c.seconds, 1)} for c in record.components],
        error=record.error,
        log_path=record.log_path,
    )
    verdicts = [read_verdict(a.uri) for a in arts.get("ValidationVerdict", [])]
    if record.blocked is not None:
        verdicts.append(record.blocked)
    if verdicts:
        for verdict in verdicts:
            summary.anomalies += verdict["anomalies"]
            summary.drift += verdict.get("drift", [])
            summary.skew += verdict.get("skew", [])
            if verdict.get("baseline_statistics"):
                summary.artifacts["baseline_statistics"] = verdict["baseline_statistics"]
    else:
        from components.gate import read_anomalies

        for art in arts.get("ExampleAnomalies", [])[-1:]:
            summary.anomalies = [asdict(f) for f in read_anomalies(art.uri, config.schema_.path, config.label.column)]
    for art in arts.get("ExampleStatistics", []):
        if f"{os.sep}StatisticsGen{os.sep}" in art.uri:  # not Transform's pre/post-transform statistics
            summary.artifacts["statistics"] = art.uri
    for art in arts.get("ModelEvaluation", [])[-1:]:
        summary.artifacts["evaluation"] = art.uri
        by_slice, diffs, failed = read_evaluation(art.uri)
        by_slice, diffs = (_class_names(d, config.label.class_names) for d in (by_slice, diffs))
        summary.metrics = by_slice.get("overall", {})
        summary.slices = {k: v for k, v in by_slice.items() if k != "overall"}
        summary.failed_thresholds = failed
        if diffs:
            summary.baseline = {"diff": diffs.get("overall", {})}
    for art in arts.get("ModelBlessing", [])[-1:]:
        summary.blessed = _prop(art, "blessed") == 1
    for art in arts.get("PushedModel", [])[-1:]:
        if _prop(art, "pushed") == 1:
            summary.pushed = {"version": int(_prop(art, "pushed_version")), "path": _prop(art, "pushed_destination")}
        else:
            summary.push_reason = _prop(art, "push_reason") or None
    return summary


def format_table(summary: RunSummary) -> str:
    """The end-of-run table for the console."""
    width = max([len(c["name"]) for c in summary.components] + [9])
    lines = ["", f"{'component':<{width}}  {'status':<8} {'seconds':>8}", "-" * (width + 19)]
    for c in summary.components:
        lines.append(f"{c['name']:<{width}}  {c['status']:<8} {c['seconds']:>8.1f}")
    lines.append("-" * (width + 19))
    lines.append(f"{'total':<{width}}  {summary.status:<8} {summary.seconds:>8.1f}")
    lines.append("")
    if summary.anomalies:
        blocking = sum(1 for a in summary.anomalies if a.get("blocking"))
        lines.append(f"anomalies: {len(summary.anomalies)} ({blocking} blocking)")
        for a in summary.anomalies:
            mark = "BLOCKING" if a.get("blocking") else "allowed" if a.get("allowed") else "warning"
            lines.append(f"  {mark:<8} [{a['split']}] {a['feature']}: {a['kind']}: {a['description']}")
            if a.get("fix"):
                lines.append(f"           fix: {a['fix']}")
    else:
        lines.append("anomalies: none")
    alarms = [d for d in summary.drift if d["exceeded"]]
    if summary.drift:
        worst = max(summary.drift, key=lambda d: d["value"] / d["threshold"])
        lines.append(f"drift vs previous data: {len(alarms)} of {len(summary.drift)} features above bound "
                     f"(largest: {worst['feature']} {worst['measure']} {worst['value']:.4f} / {worst['threshold']:g})")
    if summary.metrics:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(summary.metrics.items()))
        lines.append(f"eval metrics (overall): {shown}")
    for name, values in sorted(summary.slices.items())[:20]:
        lines.append(f"  {name}: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(values.items())))
    if summary.baseline:
        lines.append("vs baseline: " + ", ".join(f"{k}={v:+.4f}" for k, v in sorted(summary.baseline["diff"].items())))
    elif summary.metrics:
        lines.append("vs baseline: none (no earlier blessed model)")
    lines.append(f"blessed: {'yes' if summary.blessed else 'no'}")
    for failure in summary.failed_thresholds:
        lines.append(f"  failed threshold: {failure}")
    lines.append(f"pushed: {summary.pushed['path'] if summary.pushed else 'nothing'}")
    if summary.push_reason:
        lines.append(f"  not pushed: {summary.push_reason}")
    if summary.error:
        lines.append(f"error: {summary.error}")
    for name, path in summary.reports.items():
        lines.append(f"{name} report: {path}")
    if summary.log_path:
        lines.append(f"log: {summary.log_path}")
    return "\n".join(lines)
