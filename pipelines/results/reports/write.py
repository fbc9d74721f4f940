"""After a run: the offline HTML reports (validation, evaluation), written under
``<pipeline.root>/reports/`` and named in the summary."""

from __future__ import annotations

from typing import Any

from components import filesystem as fs
from components.metric_names import output_name
from pipelines.config import PipelineConfig


def report_path(config: PipelineConfig, run_id: str | None, name: str) -> str:
    """Where a run's ``validation`` or ``evaluation`` report is written."""
    run = (run_id or "preflight").replace(":", "").replace(".", "-")
    return fs.join(config.pipeline.root, "reports", f"{name}-{run}.html")


def evaluation_thresholds(config: PipelineConfig) -> dict[str, Any]:
    """``evaluation.thresholds`` under the names TFMA reports them by (``accuracy`` is ``binary_accuracy`` or
    ``sparse_categorical_accuracy``, ``r2`` is ``r_squared``), so each row finds its value and verdict."""
    return {output_name(config.label.task, name): t for name, t in config.evaluation.thresholds.items()}


def write_reports(config: PipelineConfig, summary: Any) -> dict[str, str]:
    """Render the reports the run has material for; returns {name: path}."""
    from pipelines.results.reports import load_statistics, render_evaluation_report, render_validation_report

    info = {
        "pipeline": config.pipeline.name,
        "run": summary.run_id or "-",
        "status": summary.status,
        "data": config.data.source,
    }
    written: dict[str, str] = {}
    stats_uri = summary.artifacts.get("statistics")
    if stats_uri and fs.isdir(stats_uri):
        previous = summary.artifacts.get("baseline_statistics")
        written["validation"] = render_validation_report(
            report_path(config, summary.run_id, "validation"),
            title=f"{config.pipeline.name}: data validation",
            statistics=load_statistics(stats_uri),
            anomalies=summary.anomalies,
            drift=summary.drift,
            previous_statistics=load_statistics(previous) if previous and fs.isdir(previous) else None,
            run_info=info,
            images=_image_report(summary.artifacts.get("examples")),
        )
    eval_uri = summary.artifacts.get("evaluation")
    if eval_uri and fs.isdir(eval_uri):
        written["evaluation"] = render_evaluation_report(
            report_path(config, summary.run_id, "evaluation"),
            title=f"{config.pipeline.name}: model evaluation",
            eval_result_uri=eval_uri,
            thresholds=evaluation_thresholds(config),
            blessed=summary.blessed,
            run_info=info,
            task=config.label.task,
            label_column=config.label.column,
            tuning=summary.tuning,
        )
    return written


def _image_report(examples_uri: str | None) -> dict[str, Any]:
    """ExampleGen's per-column image statistics (``components.image_checks``); {} without image features."""
    if not examples_uri:
        return {}
    from components.image_checks import read_image_report

    return read_image_report(examples_uri)
