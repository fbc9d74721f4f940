"""A run's summary, read back from ML Metadata and the components' artifacts -> table, JSON, exit status.

Everything comes from the run's ``pipeline_run`` context in ML Metadata (named by the run id
the runner set, ``RunOutcome.run_id``): each component's status and seconds from its nodes'
executions, anomalies and drift from the gates' verdict artifacts, metrics from the
evaluation, blessing and push from their artifacts. Only the wall-clock total, the engine's
error message and the log path come from the run itself (``RunOutcome``, the command).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from components import filesystem as fs
from components.gate import policy_from_parameters, read_anomalies, read_verdict
from pipelines.build import component_names, component_nodes, gate_parameters
from pipelines.config import PipelineConfig
from pipelines.errors import DataBlockedError, PipelineRunError
from pipelines.results.mlmd import Execution, artifact_property, latest_run_id, read_run
from pipelines.results.tuning import read_tuning, tuning_lines
from pipelines.runners.base import RunOutcome

__all__ = [
    "RunSummary",
    "collect",
    "component_statuses",
    "format_table",
    "preflight_summary",
    "read_evaluation",
    "read_verdict",
    "run_artifacts",
]


@dataclass
class RunSummary:
    """What a run produced, as ``pipelines.run`` prints it and writes it (``--summary``) as JSON.

    ``status`` is ``succeeded`` (blessed or not), ``failed`` or ``blocked`` (a gate or preflight
    stopped the data); each of ``components`` is ``{name, status, seconds}`` with status ``ran``,
    ``cached``, ``failed`` or ``skipped``. ``raise_for_status`` turns the status into the CLI's error.
    """

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
    # Fast path only: the recorded run this invocation answered from, {run_id, seconds, pushed}.
    # The invocation itself made no run (run_id None), pushed nothing (pushed None); seconds are its own.
    unchanged_since: dict[str, Any] | None = None
    artifacts: dict[str, str] = field(default_factory=dict)  # statistics, baseline_statistics, evaluation URIs
    # With a `tuning:` section: the Tuner's trials (settings, objective, seconds), baseline and chosen settings
    # (shape: pipelines.results.tuning).
    tuning: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None  # why the run was started: pipelines.monitor --retrain's alerts
    # data.rolling_spans over month folders: rows per month encoded by this run and reused from the span store
    # ({"encoded": {"2026-10": 20000}, "reused": {"2026-09": 20000}}; components/span_store.py).
    spans: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    @property
    def failed_component(self) -> str | None:
        """The first component that failed (a gate that blocked the data included), or None."""
        return next((c["name"] for c in self.components if c["status"] == "failed"), None)

    def raise_for_status(self) -> None:
        """Raise the error the run's status calls for; return when it succeeded (blessed or not).

        Raises:
            DataBlockedError: a gate's verdict blocked the data (exit 3).
            PipelineRunError: a component or the engine failed (exit 1).
        """
        log = f"full log: {self.log_path}" if self.log_path else None
        if self.status == "blocked":
            raise DataBlockedError(
                f"{self.failed_component or 'the validation gate'} stopped the run: the data has blocking "
                "anomalies (listed above); nothing was trained or pushed",
                hint="fix the data or the schema/config as each anomaly says" + (f"; {log}" if log else ""),
            )
        if self.status == "failed":
            where = f"component {self.failed_component} failed" if self.failed_component else "pipeline failed"
            raise PipelineRunError(f"{where}: {self.error or 'see the log'}", hint=log)


def run_artifacts(config: PipelineConfig, run_id: str | None = None) -> tuple[str | None, dict[str, list[Any]]]:
    """(run id, MLMD artifacts by type name) of a pipeline run, for exploring runs (the notebook).

    ``run_id`` names the run (a summary's ``run_id``); None picks this pipeline's newest run (other
    pipelines sharing the store are ignored), which is only right when nothing else runs the
    pipeline: the CLI always names the run it made.

    Example:
        >>> run_id, arts = run_artifacts(load_config("configs/ad_click.yaml"), "2026-01-31T10:00:00.123456")
        >>> arts["ModelEvaluation"][-1].uri
    """
    if not fs.exists(config.metadata_path):
        return None, {}
    if run_id is None:
        run_id = latest_run_id(config.metadata_path, config.pipeline.name)
        if run_id is None:
            return None, {}
    run = read_run(config.metadata_path, config.pipeline.name, run_id)
    if not run.found:
        return None, {}
    by_type: dict[str, list[Any]] = {}
    for art in run.artifacts:
        by_type.setdefault(art.type_name, []).append(art.mlmd)
    return run_id, by_type


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


def component_statuses(
    components: Mapping[str, Sequence[str]], executions: Sequence[Execution]
) -> list[dict[str, Any]]:
    """Each component's status and seconds from its nodes' executions in the run.

    ``failed`` when a node's execution failed or never ended, else ``ran`` when one ran,
    ``cached`` when all were reused, ``skipped`` when none was started; seconds add up.

    Example:
        >>> component_statuses({"Trainer": ["Trainer"]}, [Execution("Trainer", "COMPLETE", 9.46)])
        [{'name': 'Trainer', 'status': 'ran', 'seconds': 9.5}]
    """
    by_node: dict[str, list[Execution]] = {}
    for e in executions:
        by_node.setdefault(e.node, []).append(e)
    out = []
    for name, nodes in components.items():
        found = [e for node in nodes for e in by_node.get(node, [])]
        states = {e.state for e in found}
        if not found:
            status = "skipped"
        elif states - {"COMPLETE", "CACHED"}:
            status = "failed"
        elif "COMPLETE" in states:
            status = "ran"
        else:
            status = "cached"
        out.append({"name": name, "status": status, "seconds": round(sum(e.seconds for e in found), 1)})
    return out


def collect(config: PipelineConfig, outcome: RunOutcome) -> RunSummary:
    """The summary of the run ``outcome`` names, read from ML Metadata and the artifacts.

    Status: ``blocked`` when a gate's verdict did not pass, ``failed`` when a component failed
    or the engine stopped on an error, else ``succeeded`` (blessed or not).
    """
    run = read_run(config.metadata_path, config.pipeline.name, outcome.run_id)
    components = component_statuses(component_nodes(config), run.executions)
    verdicts = [read_verdict(a.uri) for a in run.of_type("ValidationVerdict")]
    if any(not v["passed"] for v in verdicts):
        status = "blocked"
    elif outcome.error is not None or any(c["status"] == "failed" for c in components):
        status = "failed"
    else:
        status = "succeeded"
    summary = RunSummary(
        status=status,
        pipeline=config.pipeline.name,
        run_id=outcome.run_id if run.found else None,
        seconds=round(outcome.seconds, 1),
        task=config.label.task,
        components=components,
        error=outcome.error,
        log_path=outcome.log_path,
    )
    for verdict in verdicts:
        summary.anomalies += verdict["anomalies"]
        summary.drift += verdict.get("drift", [])
        summary.skew += verdict.get("skew", [])
        if verdict.get("baseline_statistics"):
            summary.artifacts["baseline_statistics"] = verdict["baseline_statistics"]
    if not verdicts:  # the run stopped before the data gate decided: ExampleValidator's own findings
        policy = policy_from_parameters(**gate_parameters(config, "data"))
        for art in run.of_type("ExampleAnomalies", producer="ExampleValidator")[-1:]:
            summary.anomalies = [asdict(f) for f in read_anomalies(art.uri, policy)]
    for art in run.of_type("ExampleStatistics", producer="StatisticsGen")[-1:]:
        summary.artifacts["statistics"] = art.uri
    for art in run.of_type("Examples", producer="CsvExampleGen")[-1:]:
        summary.artifacts["examples"] = art.uri
        if artifact_property(art.mlmd, "span_store"):
            record = json.loads(artifact_property(art.mlmd, "span_store"))
            summary.spans = {"encoded": record["encoded"], "reused": record["reused"]}
    for art in run.of_type("ModelEvaluation")[-1:]:
        summary.artifacts["evaluation"] = art.uri
        by_slice, diffs, failed = read_evaluation(art.uri)
        by_slice, diffs = (_class_names(d, config.label.class_names) for d in (by_slice, diffs))
        summary.metrics = by_slice.get("overall", {})
        summary.slices = {k: v for k, v in by_slice.items() if k != "overall"}
        summary.failed_thresholds = failed
        if diffs:
            summary.baseline = {"diff": diffs.get("overall", {})}
    for art in run.of_type("TunerResults")[-1:]:
        summary.tuning = read_tuning(art.uri)
    for art in run.of_type("ModelBlessing")[-1:]:
        summary.blessed = artifact_property(art.mlmd, "blessed") == 1
    for art in run.of_type("PushedModel")[-1:]:
        if artifact_property(art.mlmd, "pushed") == 1:
            summary.pushed = {
                "version": int(artifact_property(art.mlmd, "pushed_version")),
                "path": artifact_property(art.mlmd, "pushed_destination"),
            }
        else:
            summary.push_reason = artifact_property(art.mlmd, "push_reason") or None
    return summary


def preflight_summary(config: PipelineConfig, problems: Sequence[Any], message: str) -> RunSummary:
    """The summary of a run stopped by preflight, before any engine started: every component skipped.

    ``problems`` are ``pipelines.data.preflight.Problem``s (each ``to_anomaly()``).
    """
    return RunSummary(
        status="blocked",
        pipeline=config.pipeline.name,
        run_id=None,
        seconds=0.0,
        task=config.label.task,
        components=[{"name": n, "status": "skipped", "seconds": 0.0} for n in component_names(config)],
        anomalies=[p.to_anomaly() for p in problems],
        error=message.splitlines()[0],
    )


def format_table(summary: RunSummary) -> str:
    """The end-of-run table for the console."""
    width = max([len(c["name"]) for c in summary.components] + [9])
    lines = ["", f"{'component':<{width}}  {'status':<8} {'seconds':>8}", "-" * (width + 19)]
    for c in summary.components:
        lines.append(f"{c['name']:<{width}}  {c['status']:<8} {c['seconds']:>8.1f}")
    lines.append("-" * (width + 19))
    lines.append(f"{'total':<{width}}  {summary.status:<8} {summary.seconds:>8.1f}")
    lines.append("")
    if summary.spans:
        months = [f"{m} ({n:,} rows) {how}" for how in ("encoded", "reused") for m, n in summary.spans[how].items()]
        lines.append("spans: " + ", ".join(months))
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
        lines.append(
            f"drift vs previous data: {len(alarms)} of {len(summary.drift)} features above bound "
            f"(largest: {worst['feature']} {worst['measure']} {worst['value']:.4f} / {worst['threshold']:g})"
        )
    if summary.tuning:
        lines += tuning_lines(summary.tuning)
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
    if summary.unchanged_since is not None:
        lines.append(unchanged_line(summary.unchanged_since))
    else:
        lines.append(f"pushed: {summary.pushed['path'] if summary.pushed else 'nothing'}")
    if summary.push_reason:
        lines.append(f"  not pushed: {summary.push_reason}")
    if summary.error:
        lines.append(f"error: {summary.error}")
    for name, path in summary.reports.items():
        lines.append(f"{name} report: {path}")
    if summary.log_path:
        lines.append(f"log: {summary.log_path}")
    if summary.engine == "fast-path":
        lines.append("every component would be cached: TFX was not started (--no-fast-path runs it anyway)")
    return "\n".join(lines)


def unchanged_line(since: Mapping[str, Any]) -> str:
    """What a fast-path answer says instead of ``pushed: ...``: the recorded run, what it serves, no push.

    Example:
        >>> unchanged_line({"run_id": "r1", "seconds": 75.0, "pushed": {"version": 3, "path": "/m/3"}})
        'nothing changed since run r1; serving version 3; nothing pushed'
    """
    serving = f"; serving version {since['pushed']['version']}" if since.get("pushed") else ""
    return f"nothing changed since run {since.get('run_id')}{serving}; nothing pushed"
