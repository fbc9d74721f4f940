"""Self-contained HTML reports of a run: data validation and model evaluation.

Each report is a single ``.html`` file that opens offline: inline CSS and SVG, no
scripts, no fonts, images or anything else fetched (a Content-Security-Policy forbids
it). Pages are Jinja2 templates (``templates/``) rendered with autoescaping on, so every
value from the data is escaped; Python hands them plain values and chart geometry.
Files are written atomically through :mod:`components.filesystem`. TensorFlow Model
Analysis is imported only to read an Evaluator folder; the validation report needs only
``tensorflow_metadata`` protos.

Example:
    >>> from pipelines.results.reports import load_anomalies, load_statistics, render_validation_report
    >>> render_validation_report(
    ...     "runs/ad_click/reports/validation.html",
    ...     title="ad_click: data",
    ...     statistics=load_statistics(".../StatisticsGen/statistics/3"),
    ...     anomalies=load_anomalies(".../ExampleValidator/anomalies/5"),
    ... )
    >>> from pipelines.results.reports import render_evaluation_report
    >>> render_evaluation_report(
    ...     "runs/ad_click/reports/evaluation.html",
    ...     title="ad_click: model",
    ...     eval_result_uri=".../Evaluator/evaluation/26",
    ...     blessed=True,
    ... )
"""

from pipelines.results.reports.evaluation import render_evaluation_report
from pipelines.results.reports.tfma_result import load_evaluation
from pipelines.results.reports.validation import (
    anomalies_from_proto,
    drift_from_anomalies,
    load_anomalies,
    load_statistics,
    render_validation_report,
)

__all__ = [
    "anomalies_from_proto",
    "drift_from_anomalies",
    "load_anomalies",
    "load_evaluation",
    "load_statistics",
    "render_evaluation_report",
    "render_validation_report",
]
