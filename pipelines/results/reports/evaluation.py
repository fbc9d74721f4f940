"""The model-evaluation report: metrics overall and per slice, the baseline comparison, thresholds and the blessing.

Give it the Evaluator's output folder (``eval_result_uri``; read by
:func:`~pipelines.results.reports.tfma_result.load_evaluation`) or the numbers themselves, as
``pipelines.results.summary.RunSummary`` holds them. Explicit arguments win over what is read
from the folder. Plot data TFMA wrote (``CalibrationPlot``, ``ConfusionMatrixPlot``)
is drawn as inline SVG: for a binary label ROC and precision-recall curves and a reliability
diagram; for a regression label predicted against actual and residuals per prediction bucket.
Metric names and row order come from :mod:`components.metric_names`; the page is
``templates/evaluation.html.j2``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from components.metric_names import ORDER, label, output_name
from pipelines.results.reports._format import DASH, fmt_diff, fmt_metric
from pipelines.results.reports._plots import no_plots_note, plots_section
from pipelines.results.reports._render import render, write_report
from pipelines.results.reports.tfma_result import load_evaluation

__all__ = ["load_evaluation", "render_evaluation_report"]


def _metric_order(names: Iterable[str]) -> list[str]:
    """TFMA output names in the report's row order; per-class ones (``precision[classId:2]``) after their metric."""

    def key(name: str) -> tuple[int, str, int, str]:
        base, _, sub = name.partition("[")
        digits = re.search(r"\d+", sub)
        return (ORDER.index(base) if base in ORDER else len(ORDER), base, int(digits.group()) if digits else -1, name)

    return sorted(set(names), key=key)


# --- tables -------------------------------------------------------------------------------------


def _thresholds_dict(thresholds: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Config thresholds (dicts or the config's models) -> {lower_bound, upper_bound, change}."""
    out: dict[str, dict[str, Any]] = {}
    for name, t in (thresholds or {}).items():
        if hasattr(t, "model_dump"):
            t = t.model_dump()
        t = dict(t or {})
        change = t.get("change")
        if change is not None and hasattr(change, "model_dump"):
            change = change.model_dump()
        out[name] = {
            "lower_bound": t.get("lower_bound"),
            "upper_bound": t.get("upper_bound"),
            "change": dict(change) if change else None,
        }
    return out


def _tfma_name(task: str, name: str) -> str:
    """TFMA's output name of a threshold keyed by a config key (``accuracy``); any other name as given."""
    try:
        return output_name(task, name)
    except ValueError:  # already TFMA's name (binary_accuracy), or a metric outside the table
        return name


def _change_text(change: Mapping[str, Any] | None) -> str:
    if not change:
        return DASH
    parts = []
    if change.get("absolute") is not None:
        parts.append(f"absolute {float(change['absolute']):+g}")
    if change.get("relative") is not None:
        parts.append(f"relative {float(change['relative']):+g}")
    direction = str(change.get("direction") or "").replace("_", " ")
    return ", ".join(parts) + (f" ({direction})" if direction else "") if parts else DASH


def _failed_names(failed: Sequence[str]) -> set[str]:
    return {re.split(r"[\s:(=]", msg.strip(), maxsplit=1)[0] for msg in failed if msg.strip()}


def _threshold_rows(
    thresholds: Mapping[str, dict[str, Any]], metrics: Mapping[str, float], failed: Sequence[str] | None, task: str
) -> list[dict[str, Any]]:
    failed_names = _failed_names(failed or [])
    rows = []
    for name, t in thresholds.items():
        tfma_name = _tfma_name(task, name)
        result = (
            "not checked"
            if failed is None
            else ("failed" if name in failed_names or tfma_name in failed_names else "passed")
        )
        rows.append(
            {
                "name": label(name),
                "lower": fmt_metric(t.get("lower_bound")),
                "upper": fmt_metric(t.get("upper_bound")),
                "change": _change_text(t.get("change")),
                "value": fmt_metric(metrics.get(name, metrics.get(tfma_name))),
                "result": result,
            }
        )
    return rows


def _baseline_rows(metrics: Mapping[str, float], diffs: Mapping[str, float]) -> list[dict[str, str]]:
    rows = []
    for m in _metric_order(diffs):
        diff, value = diffs[m], metrics.get(m)
        base = value - diff if value is not None else None  # TFMA's diff is candidate - baseline
        rows.append(
            {
                "name": label(m),
                "candidate": fmt_metric(value),
                "baseline": fmt_metric(base),
                "diff": fmt_diff(diff),
                "relative": f"{100 * diff / base:+.2f}%" if base else DASH,
            }
        )
    return rows


def _slice_table(
    slices: Mapping[str, Mapping[str, float]], slice_diffs: Mapping[str, Mapping[str, float]]
) -> dict[str, Any]:
    names = _metric_order(m for values in slices.values() for m in values)
    rows = []
    for name in sorted(slices):
        values, diffs = slices[name], slice_diffs.get(name, {})
        rows.append(
            {
                "name": name,
                "cells": [
                    {
                        "value": fmt_metric(values.get(m)) if m in values else DASH,
                        "diff": f"({fmt_diff(diffs[m])})" if m in diffs and m != "example_count" else None,
                    }
                    for m in names
                ],
            }
        )
    return {"headers": ["slice"] + [label(m) for m in names], "rows": rows}


# --- the report ---------------------------------------------------------------------------------


def _tuning_view(tuning: Mapping[str, Any]) -> dict[str, Any]:
    """The chosen settings and one row per trial (the baseline first) for the report's tuning section."""
    from pipelines.results.tuning import settings_text

    chosen = tuning["chosen"]["trial"]
    rows = [("baseline", tuning["baseline"]), *((t["trial"], t) for t in tuning["trials"])]
    return {
        "objective": tuning["objective"],
        "better": "higher" if tuning["direction"] == "max" else "lower",
        "chosen": "the config's own (no trial beat them)" if chosen == "baseline" else f"trial {chosen}",
        "settings": settings_text(tuning["chosen"]["settings"]),
        "rows": [
            {
                "name": name,
                "value": DASH if row.get("objective") is None else fmt_metric(row["objective"]),
                "seconds": f"{row['seconds']:.1f}",
                "settings": settings_text(row["settings"]),
                "chosen": name == chosen,
            }
            for name, row in rows
        ],
    }


def render_evaluation_report(
    out_path: str | os.PathLike[str],
    *,
    title: str,
    eval_result_uri: str | None = None,
    metrics: Mapping[str, float] | None = None,
    slices: Mapping[str, Mapping[str, float]] | None = None,
    baseline_diff: Mapping[str, Any] | None = None,
    thresholds: Mapping[str, Any] | None = None,
    failed_thresholds: Sequence[str] | None = None,
    blessed: bool | None = None,
    run_info: dict[str, Any] | None = None,
    task: str = "binary",
    label_column: str | None = None,
    tuning: Mapping[str, Any] | None = None,
) -> str:
    """Write the model-evaluation report to ``out_path`` (atomically) and return the path written.

    Args:
        out_path: the ``.html`` file to write; its folder is created.
        title: page title (escaped).
        eval_result_uri: an Evaluator ``evaluation`` artifact folder; metrics, diffs, thresholds,
            failures, the validation verdict and plot data are read from it (:func:`load_evaluation`).
        metrics: overall ``{metric: value}`` under TFMA's names (``binary_accuracy``).
        slices: ``{slice name: {metric: value}}`` (``"male=0"``), without the overall slice.
        baseline_diff: overall ``{metric: candidate - baseline}`` (or ``RunSummary.baseline``, ``{"diff": ...}``).
        thresholds: ``{metric: {lower_bound, upper_bound, change: {direction, absolute, relative}}}`` as in
            ``evaluation.thresholds`` of the config (dicts or the config's models), keyed by TFMA's
            names or by the config's (``accuracy``, looked up as ``task``'s TFMA name).
        failed_thresholds: one message per failure, starting with the metric name (``RunSummary``'s form).
            ``None`` means unknown; ``[]`` means every threshold passed.
        blessed: the Evaluator's verdict; ``None`` shows TFMA's validation result if there is one.
        run_info: extra facts for the header (pipeline, run id, model path...), shown as given.
        task: the label's task (``binary``, ``multiclass``, ``regression``), for config-keyed thresholds
            and which plots to draw.
        label_column: the label's column, named in the advice when a regression has no plots.
        tuning: the run's tuning record (``RunSummary.tuning``): the chosen settings and the trial table.

    Example:
        >>> render_evaluation_report(
        ...     "runs/ad_click/reports/evaluation.html",
        ...     title="ad_click model",
        ...     eval_result_uri=evaluation_uri,
        ...     blessed=summary.blessed,
        ... )
    """
    loaded: dict[str, Any] = load_evaluation(eval_result_uri) if eval_result_uri else {}
    # Per-slice diffs only make sense next to the slices they were read with.
    slice_diffs = loaded.get("slice_diffs", {}) if slices is None else {}
    metrics = dict(metrics if metrics is not None else loaded.get("metrics", {}))
    slices = {k: dict(v) for k, v in (slices if slices is not None else loaded.get("slices", {})).items()}
    if isinstance(baseline_diff, Mapping) and isinstance(baseline_diff.get("diff"), Mapping):
        baseline_diff = baseline_diff["diff"]  # RunSummary.baseline
    diffs = {
        str(k).removesuffix("_diff"): float(v)  # RunSummary keeps TFMA's "<metric>_diff" names
        for k, v in (baseline_diff if baseline_diff is not None else loaded.get("baseline_diff", {})).items()
    }
    threshold_rows = _thresholds_dict(thresholds) if thresholds is not None else loaded.get("thresholds", {})
    failed = list(failed_thresholds) if failed_thresholds is not None else loaded.get("failures")
    validation_ok = loaded.get("validation_ok")
    if failed is None and validation_ok is not None:
        failed = []

    if blessed is not None:
        verdict = ("blessed", "ok") if blessed else ("not blessed", "bad")
    elif validation_ok is not None:
        verdict = ("passes validation", "ok") if validation_ok else ("fails validation", "bad")
    else:
        verdict = ("blessing unknown", "info")
    html = render(
        "evaluation.html.j2",
        kind="evaluation-report",
        title=title,
        run_info=run_info or {},
        verdict=verdict,
        failed=failed or [],
        metrics=[(label(m), fmt_metric(metrics[m])) for m in _metric_order(metrics)],
        baseline=_baseline_rows(metrics, diffs) if diffs else None,
        thresholds=_threshold_rows(threshold_rows, metrics, failed, task),
        slices=_slice_table(slices, slice_diffs),
        slice_diffs=bool(slice_diffs),
        plots=plots_section(
            loaded.get("plots", {}), loaded.get("baseline_plots", {}), {"overall": metrics, **slices}, task
        ),
        no_plots=no_plots_note(task, label_column),
        tuning=_tuning_view(tuning) if tuning else None,
    )
    return write_report(out_path, html)
