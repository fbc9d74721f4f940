"""The evaluation report's plots: TFMA plot data of each slice -> the geometry of inline SVG charts.

Binary: ROC and precision-recall curves (``ConfusionMatrixPlot``) and a reliability diagram
(``CalibrationPlot`` on [0, 1]). Regression: predicted against actual and residuals, one point
per prediction bucket of a ``CalibrationPlot`` over the label's range
(``pipelines.build.evaluation.regression_plot``). Multiclass: none drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from components.evaluation_results import number
from pipelines.results.reports import _charts

__all__ = ["MAX_PLOTTED_SLICES", "no_plots_note", "plots_section", "regression_points"]

MAX_PLOTTED_SLICES = 12


def _curve(matrices: Sequence[Mapping[str, Any]], x_key: str, y_key: str) -> list[tuple[float, float]]:
    points = []
    for m in matrices:
        # Proto-to-JSON drops zeros, so a missing rate is 0.
        x, y = number(m.get(x_key, 0.0)), number(m.get(y_key, 0.0))
        if x is not None and y is not None:
            points.append((x, y))
    points.sort()
    kept: list[tuple[float, float]] = []
    for p in points:  # a few hundred points draw the same curve as a thousand
        if not kept or abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) > 0.004 or p is points[-1]:
            kept.append(p)
    return kept


def _reliability(buckets: Sequence[Mapping[str, Any]], bins: int = 10) -> list[tuple[float, float]]:
    """(mean prediction, mean label) per prediction decile, from TFMA's fine calibration histogram."""
    n = [0.0] * bins
    label_sum = [0.0] * bins
    pred = [0.0] * bins
    for b in buckets:
        lower = b.get("lowerThresholdInclusive", 0.0)
        low = -math.inf if lower == "-Infinity" else (number(lower) if number(lower) is not None else 0.0)
        i = min(max(math.floor(low * bins) if math.isfinite(low) else 0, 0), bins - 1)
        n[i] += number(b.get("numWeightedExamples", 0.0)) or 0.0
        label_sum[i] += number(b.get("totalWeightedLabel", 0.0)) or 0.0
        pred[i] += number(b.get("totalWeightedRefinedPrediction", 0.0)) or 0.0
    return [(pred[i] / n[i], label_sum[i] / n[i]) for i in range(bins) if n[i] > 0]


def regression_points(buckets: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, float]]:
    """(mean prediction, mean label, examples) per non-empty bucket of a regression ``CalibrationPlot``.

    Example:
        >>> regression_points(
        ...     [{"numWeightedExamples": 2, "totalWeightedLabel": 21, "totalWeightedRefinedPrediction": 20}]
        ... )
        [(10.0, 10.5, 2.0)]
    """
    out = []
    for b in buckets:
        n = number(b.get("numWeightedExamples", 0.0)) or 0.0
        if n > 0:
            label_sum = number(b.get("totalWeightedLabel", 0.0)) or 0.0
            pred_sum = number(b.get("totalWeightedRefinedPrediction", 0.0)) or 0.0
            out.append((pred_sum / n, label_sum / n, n))
    return sorted(out)


def _span(values: Sequence[float], *, around_zero: bool = False) -> tuple[float, float]:
    """A padded axis range over ``values`` (symmetric about 0 for residuals)."""
    if around_zero:
        top = max((abs(v) for v in values), default=0.0) * 1.1 or 1.0
        return -top, top
    lo, hi = min(values, default=0.0), max(values, default=1.0)
    pad = (hi - lo) * 0.05 or max(abs(hi), 1.0) * 0.05
    return lo - pad, hi + pad


def _regression_figures(
    slice_name: str, data: Mapping[str, Any], baseline: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Predicted against actual and residuals (actual - predicted), one point per prediction bucket."""
    buckets = (data.get("calibrationHistogramBuckets") or {}).get("buckets") or []
    base_buckets = ((baseline or {}).get("calibrationHistogramBuckets") or {}).get("buckets") or []
    runs = [(name, regression_points(b)) for name, b in (("candidate", buckets), ("baseline", base_buckets)) if b]
    runs = [(name, pts) for name, pts in runs if pts]
    if not runs:
        return []
    notes = [[f", {n:,.0f} examples" for _, _, n in pts] for _, pts in runs]
    both = _span([v for _, pts in runs for p, a, _ in pts for v in (p, a)])
    residual = _span([a - p for _, pts in runs for p, a, _ in pts], around_zero=True)
    x_range = _span([p for _, pts in runs for p, _, _ in pts])
    caption = f"predicted against actual, {slice_name}"
    vs_actual = _charts.xy(
        [(name, [(p, a) for p, a, _ in pts], name) for name, pts in runs],
        x_label="mean prediction",
        y_label="mean actual label",
        title=caption,
        points=True,
        x_range=both,
        y_range=both,
        notes=notes,
    )
    figures = [{"caption": caption, "chart": vs_actual}]
    caption = f"residuals, {slice_name}"
    residuals = _charts.xy(
        [(name, [(p, a - p) for p, a, _ in pts], name) for name, pts in runs],
        x_label="mean prediction",
        y_label="actual - predicted",
        title=caption,
        points=True,
        diagonal=False,
        zero_line=True,
        x_range=x_range,
        y_range=residual,
        notes=notes,
    )
    figures.append({"caption": caption, "chart": residuals})
    return figures


def _figures(
    slice_name: str, data: Mapping[str, Any], baseline: Mapping[str, Any] | None, auc: float | None
) -> list[dict[str, Any]]:
    """ROC, precision-recall and calibration charts of one slice (binary): [{chart, caption}]."""
    figures = []
    matrices = (data.get("confusionMatrixAtThresholds") or {}).get("matrices") or []
    base_matrices = ((baseline or {}).get("confusionMatrixAtThresholds") or {}).get("matrices") or []
    if matrices:
        roc = [("candidate", _curve(matrices, "falsePositiveRate", "recall"), "candidate")]
        pr = [("candidate", _curve(matrices, "recall", "precision"), "candidate")]
        if base_matrices:
            roc.append(("baseline", _curve(base_matrices, "falsePositiveRate", "recall"), "baseline"))
            pr.append(("baseline", _curve(base_matrices, "recall", "precision"), "baseline"))
        caption = f"ROC, {slice_name}" + (f" (AUC {auc:.4f})" if auc is not None else "")
        figures.append(
            {
                "caption": caption,
                "chart": _charts.xy(
                    roc, x_label="false positive rate", y_label="true positive rate (recall)", title=caption
                ),
            }
        )
        caption = f"precision-recall, {slice_name}"
        figures.append(
            {
                "caption": caption,
                "chart": _charts.xy(pr, x_label="recall", y_label="precision", title=caption, diagonal=False),
            }
        )
    buckets = (data.get("calibrationHistogramBuckets") or {}).get("buckets") or []
    if buckets:
        series = [("candidate", _reliability(buckets), "candidate")]
        base_buckets = ((baseline or {}).get("calibrationHistogramBuckets") or {}).get("buckets") or []
        if base_buckets:
            series.append(("baseline", _reliability(base_buckets), "baseline"))
        caption = f"calibration, {slice_name}: mean label per prediction decile"
        figures.append(
            {
                "caption": caption,
                "chart": _charts.xy(
                    series, x_label="mean prediction", y_label="mean label", title=caption, points=True
                ),
            }
        )
    return figures


def plots_section(
    plots: Mapping[str, Any],
    baseline_plots: Mapping[str, Any],
    values: Mapping[str, Mapping[str, float]],
    task: str,
) -> dict[str, Any]:
    """The plots section: overall first, then up to MAX_PLOTTED_SLICES - 1 slices."""
    names = sorted(plots, key=lambda n: (n != "overall", n))
    slices = []
    for name in names[:MAX_PLOTTED_SLICES]:
        if task == "regression":
            figures = _regression_figures(name, plots[name], baseline_plots.get(name))
        else:
            figures = _figures(name, plots[name], baseline_plots.get(name), values.get(name, {}).get("auc"))
        if figures:
            slices.append({"name": name, "figures": figures})
    return {
        "baseline": bool(baseline_plots),
        "not_drawn": max(len(names) - MAX_PLOTTED_SLICES, 0),
        "slices": slices,
    }


def no_plots_note(task: str, label_column: str | None) -> str:
    """Why there is no plot, and what to change in the pipeline's YAML (or its curated schema) to get one."""
    if task == "regression":
        label = f"'{label_column}'" if label_column else "the label"
        return (
            "No predicted-against-actual or residual plots: they need the label's range. Set "
            f"evaluation.plot_range: [low, high] for {label} in the YAML (pipelines.init writes it), or give "
            f"{label} a float_domain {{ min: ... max: ... }} (or int_domain) in the curated schema, then run again."
        )
    if task == "multiclass":
        return (
            "No plots are drawn for label.task: multiclass; the per-class precision and recall rows above "
            "(evaluation.metrics: precision, recall) show how each class fares."
        )
    return (
        "No plot data in this evaluation: the pipeline computes ROC, precision-recall and calibration plots "
        "for every label.task: binary run; this folder was written without them. Run the pipeline again."
    )
