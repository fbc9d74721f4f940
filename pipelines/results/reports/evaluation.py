"""The model-evaluation report: metrics overall and per slice, the baseline comparison, thresholds and the blessing.

Give it the Evaluator's output folder (``eval_result_uri``; read with
``tensorflow_model_analysis.load_eval_result``) or the numbers themselves, as
``pipelines.results.summary.RunSummary`` holds them. Explicit arguments win over what is read
from the folder. Plot data TFMA wrote (``CalibrationPlot``, ``ConfusionMatrixPlot``)
is drawn as inline SVG: ROC and precision-recall curves and a reliability diagram.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
from typing import Any, Iterable, Mapping, Sequence

from components.evaluation_results import metrics_by_slice, number, slice_name, split_diffs
from pipelines.results.reports._html import (
    DASH, Html, badge, esc, fmt_diff, fmt_metric, join, key_values, page, section, svg_xy, table, tag,
    write_atomic,
)

__all__ = ["load_evaluation", "metric_output_name", "render_evaluation_report"]

MAX_PLOTTED_SLICES = 12

# Config keys (``evaluation.metrics``) whose TFMA output name differs.
_ALIASES = {"accuracy": "binary_accuracy", "auc_pr": "auc_precision_recall"}
_ORDER = ["example_count", "auc", "auc_precision_recall", "binary_accuracy", "precision", "recall", "calibration",
          "mean_label", "mean_prediction", "loss"]


def _tfma_name(name: str) -> str:
    return _ALIASES.get(name, name)


def _metric_order(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def _proto_slice_name(slice_key: Any) -> str:
    pairs = []
    for key in slice_key.single_slice_keys:
        which = key.WhichOneof("kind")
        pairs.append((key.column, getattr(key, which) if which else ""))
    return slice_name(pairs)


# --- reading a TFMA output folder ---------------------------------------------------------------

def _snake(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", class_name).lower()


def metric_output_name(class_name: str, config: str | None = None) -> str:
    """The name TFMA writes a metric under (``BinaryAccuracy`` -> ``binary_accuracy``)."""
    try:
        import tensorflow_model_analysis as tfma

        return getattr(tfma.metrics, class_name)(**json.loads(config or "{}")).name
    except Exception:  # noqa: BLE001 - a Keras or custom metric: fall back to TFMA's naming rule
        return _snake(class_name)


def _threshold_row(threshold: Mapping[str, Any]) -> dict[str, Any]:
    """A TFMA MetricThreshold as JSON -> {lower_bound, upper_bound, change}."""
    value = threshold.get("valueThreshold") or {}
    change = threshold.get("changeThreshold")
    return {
        "lower_bound": number(value.get("lowerBound")),
        "upper_bound": number(value.get("upperBound")),
        "change": None if not change else {
            "direction": str(change.get("direction", "")).lower() or None,
            "absolute": number(change.get("absolute")),
            "relative": number(change.get("relative")),
        },
    }


def _read_eval_config(uri: str) -> tuple[str | None, str | None, dict[str, dict[str, Any]]]:
    """(candidate model name, baseline model name, thresholds by metric name) from ``eval_config.json``."""
    path = os.path.join(uri, "eval_config.json")
    if not os.path.exists(path):
        return None, None, {}
    with open(path, encoding="utf-8") as fh:
        config = json.load(fh).get("evalConfig", {})
    specs = config.get("modelSpecs", [])
    candidate = next((s.get("name", "") for s in specs if not s.get("isBaseline")), None)
    baseline = next((s.get("name", "") for s in specs if s.get("isBaseline")), None)
    thresholds: dict[str, dict[str, Any]] = {}
    for spec in config.get("metricsSpecs", []):
        for metric in spec.get("metrics", []):
            if metric.get("threshold"):
                name = metric_output_name(metric.get("className", ""), metric.get("config"))
                thresholds[name] = _threshold_row(metric["threshold"])
        for name, threshold in (spec.get("thresholds") or {}).items():
            thresholds[name] = _threshold_row(threshold)
    return candidate, baseline, thresholds


def _failure_message(failure: Any, slice_name: str) -> str:
    name = failure.metric_key.name
    value = failure.metric_value.double_value.value if failure.metric_value.HasField("double_value") else None
    shown = f"{value:.4f}" if value is not None else "?"
    if failure.message:
        return f"{name} ({slice_name}): {failure.message}"
    t = failure.metric_threshold
    rules = []
    if t.HasField("value_threshold"):
        vt = t.value_threshold
        if vt.HasField("lower_bound"):
            rules.append(f"lower bound {vt.lower_bound.value:g}")
        if vt.HasField("upper_bound"):
            rules.append(f"upper bound {vt.upper_bound.value:g}")
    if t.HasField("change_threshold"):
        ct = t.change_threshold
        if ct.HasField("absolute"):
            rules.append(f"change vs baseline {ct.absolute.value:+g}")
        if ct.HasField("relative"):
            rules.append(f"relative change vs baseline {ct.relative.value:+g}")
    return f"{name} ({slice_name}) = {shown} fails " + (", ".join(rules) or "its threshold")


def _plot_data(plots: Any) -> dict[str, Any]:
    """Find calibration and confusion-matrix data in TFMA's nested plot dict."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("calibrationHistogramBuckets", "confusionMatrixAtThresholds"):
                if key in node and key not in found:
                    found[key] = node[key]
            for child in node.values():
                walk(child)

    walk(plots)
    return found


def _load_slices(uri: str, model_name: str | None) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """(metrics by slice, plot data by slice) for one model."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_eval_result(uri, model_name=model_name)
    by_slice = metrics_by_slice(result)
    plots = {}
    for slice_key, plot in result.plots or []:
        data = _plot_data(plot)
        if data:
            plots[slice_name(slice_key)] = data
    return by_slice, plots


def load_evaluation(eval_result_uri: str) -> dict[str, Any]:
    """Read an Evaluator output folder into the report's inputs.

    Returns a dict with ``metrics`` (overall), ``slices``, ``baseline_diff`` (overall
    ``<metric>`` -> candidate minus baseline), ``slice_diffs``, ``thresholds`` (by TFMA
    metric name), ``failures`` (one message per failed threshold and slice),
    ``validation_ok`` (None without a validation result), ``plots`` and
    ``baseline_plots`` (plot data by slice).

    Example:
        >>> ev = load_evaluation("runs/ad_click/Evaluator/evaluation/26")
        >>> ev["metrics"]["auc"], ev["validation_ok"]
    """
    import tensorflow_model_analysis as tfma

    if not os.path.isdir(eval_result_uri):
        raise FileNotFoundError(f"{eval_result_uri}: not a TFMA output folder")
    candidate, baseline, thresholds = _read_eval_config(eval_result_uri)
    # With a baseline the folder holds two models; TFMA needs the candidate named.
    by_slice, plots = _load_slices(eval_result_uri, candidate if baseline is not None else None)
    baseline_plots: dict[str, Any] = {}
    if baseline is not None:
        _, baseline_plots = _load_slices(eval_result_uri, baseline)
    values, diffs = split_diffs(by_slice)
    failures: list[str] = []
    validation_ok = None
    if glob.glob(os.path.join(eval_result_uri, "validations*")):
        validation = tfma.load_validation_result(eval_result_uri)
        validation_ok = bool(validation.validation_ok)
        for per_slice in validation.metric_validations_per_slice:
            where = _proto_slice_name(per_slice.slice_key)
            failures += [_failure_message(f, where) for f in per_slice.failures]
    return {
        "metrics": values.get("overall", {}),
        "slices": {k: v for k, v in values.items() if k != "overall"},
        "baseline_diff": diffs.get("overall", {}),
        "slice_diffs": {k: v for k, v in diffs.items() if k != "overall"},
        "thresholds": thresholds,
        "failures": failures,
        "validation_ok": validation_ok,
        "plots": plots,
        "baseline_plots": baseline_plots,
    }


# --- plots --------------------------------------------------------------------------------------

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
    label = [0.0] * bins
    pred = [0.0] * bins
    for b in buckets:
        lower = b.get("lowerThresholdInclusive", 0.0)
        low = -math.inf if lower == "-Infinity" else (number(lower) if number(lower) is not None else 0.0)
        i = min(max(int(math.floor(low * bins)) if math.isfinite(low) else 0, 0), bins - 1)
        n[i] += number(b.get("numWeightedExamples", 0.0)) or 0.0
        label[i] += number(b.get("totalWeightedLabel", 0.0)) or 0.0
        pred[i] += number(b.get("totalWeightedRefinedPrediction", 0.0)) or 0.0
    return [(pred[i] / n[i], label[i] / n[i]) for i in range(bins) if n[i] > 0]


def _plot_figures(slice_name: str, data: Mapping[str, Any], baseline: Mapping[str, Any] | None,
                  auc: float | None) -> Html:
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
        figures.append((svg_xy(roc, x_label="false positive rate", y_label="true positive rate (recall)",
                               title=caption), caption))
        figures.append((svg_xy(pr, x_label="recall", y_label="precision", title=f"precision-recall, {slice_name}",
                               diagonal=False), f"precision-recall, {slice_name}"))
    buckets = (data.get("calibrationHistogramBuckets") or {}).get("buckets") or []
    if buckets:
        series = [("candidate", _reliability(buckets), "candidate")]
        base_buckets = ((baseline or {}).get("calibrationHistogramBuckets") or {}).get("buckets") or []
        if base_buckets:
            series.append(("baseline", _reliability(base_buckets), "baseline"))
        caption = f"calibration, {slice_name}: mean label per prediction decile"
        figures.append((svg_xy(series, x_label="mean prediction", y_label="mean label", title=caption,
                               points=True), caption))
    return Html('<div class="plots">' + "".join(
        f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>" for svg, caption in figures) + "</div>")


def _plots_section(plots: Mapping[str, Any], baseline_plots: Mapping[str, Any],
                   values: Mapping[str, Mapping[str, float]]) -> Html:
    if not plots:
        return tag("p", "No plot data in the evaluation (add CalibrationPlot / ConfusionMatrixPlot metrics to the "
                        "EvalConfig to get ROC and calibration plots).", class_="note")
    names = sorted(plots, key=lambda n: (n != "overall", n))
    legend = Html('<p class="legend"><span class="sw cur"></span>candidate'
                  + ('<span class="sw base"></span>baseline' if baseline_plots else "") + "</p>")
    parts = [legend]
    for name in names[:MAX_PLOTTED_SLICES]:
        figures = _plot_figures(name, plots[name], baseline_plots.get(name), values.get(name, {}).get("auc"))
        if name == "overall":
            parts.append(join([tag("h3", "overall"), figures]))
        else:
            parts.append(Html(f"<details><summary>{esc(name)}</summary>{figures}</details>"))
    if len(names) > MAX_PLOTTED_SLICES:
        parts.append(tag("p", f"{len(names) - MAX_PLOTTED_SLICES} more slices not drawn.", class_="note"))
    return join(parts)


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
        out[name] = {"lower_bound": t.get("lower_bound"), "upper_bound": t.get("upper_bound"),
                     "change": dict(change) if change else None}
    return out


def _value_of(metrics: Mapping[str, float], name: str) -> float | None:
    return metrics.get(name, metrics.get(_tfma_name(name)))


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


def _thresholds_table(thresholds: Mapping[str, dict[str, Any]], metrics: Mapping[str, float],
                      failed: Sequence[str] | None) -> Html:
    failed_names = _failed_names(failed or [])
    rows, classes = [], []
    for name, t in thresholds.items():
        is_failed = failed is not None and (name in failed_names or _tfma_name(name) in failed_names)
        if failed is None:
            verdict = badge("not checked", "info")
        else:
            verdict = badge("failed", "bad") if is_failed else badge("passed", "ok")
        rows.append([tag("strong", name), fmt_metric(t.get("lower_bound")), fmt_metric(t.get("upper_bound")),
                     _change_text(t.get("change")), fmt_metric(_value_of(metrics, name)), verdict])
        classes.append("bad" if is_failed else None)
    return table(["metric", "lower bound", "upper bound", "change vs baseline", "candidate (overall)", "result"],
                 rows, table_id="thresholds", row_classes=classes, numeric=(1, 2, 4),
                 empty="No thresholds: the model is blessed without checks.")


def _metrics_table(metrics: Mapping[str, float]) -> Html:
    rows = [[tag("strong", m), fmt_metric(metrics[m])] for m in _metric_order(metrics)]
    return table(["metric", "value"], rows, table_id="metrics", numeric=(1,), empty="No metrics.")


def _baseline_table(metrics: Mapping[str, float], diffs: Mapping[str, float]) -> Html:
    rows = []
    for m in _metric_order(diffs):
        diff, value = diffs[m], metrics.get(m)
        base = value - diff if value is not None else None  # TFMA's diff is candidate - baseline
        rel = f"{100 * diff / base:+.2f}%" if base else DASH
        rows.append([tag("strong", m), fmt_metric(value), fmt_metric(base), fmt_diff(diff), rel])
    return table(["metric", "candidate", "baseline", "difference", "relative"], rows, table_id="baseline",
                 numeric=(1, 2, 3, 4), empty="No comparison.")


def _slices_table(slices: Mapping[str, Mapping[str, float]], slice_diffs: Mapping[str, Mapping[str, float]]) -> Html:
    names = _metric_order(m for values in slices.values() for m in values)
    rows = []
    for name in sorted(slices):
        values, diffs = slices[name], slice_diffs.get(name, {})
        cells: list[Any] = [tag("strong", name)]
        for m in names:
            text = fmt_metric(values.get(m)) if m in values else DASH
            if m in diffs and m != "example_count":
                cells.append(join([text, " ", tag("span", f"({fmt_diff(diffs[m])})", class_="muted")]))
            else:
                cells.append(text)
        rows.append(cells)
    return table(["slice"] + names, rows, table_id="slices", numeric=range(1, len(names) + 1),
                 empty="No slices configured (evaluation.slices).")


# --- the report ---------------------------------------------------------------------------------

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
) -> str:
    """Write the model-evaluation report to ``out_path`` (atomically) and return its absolute path.

    Args:
        out_path: the ``.html`` file to write; its folder is created.
        title: page title (escaped).
        eval_result_uri: an Evaluator ``evaluation`` artifact folder; metrics, diffs, thresholds,
            failures, the validation verdict and plot data are read from it (:func:`load_evaluation`).
        metrics: overall ``{metric: value}``.
        slices: ``{slice name: {metric: value}}`` (``"male=0"``), without the overall slice.
        baseline_diff: overall ``{metric: candidate - baseline}`` (or ``RunSummary.baseline``, ``{"diff": ...}``).
        thresholds: ``{metric: {lower_bound, upper_bound, change: {direction, absolute, relative}}}`` as in
            ``evaluation.thresholds`` of the config (dicts or the config's models).
        failed_thresholds: one message per failure, starting with the metric name (``RunSummary``'s form).
            ``None`` means unknown; ``[]`` means every threshold passed.
        blessed: the Evaluator's verdict; ``None`` shows TFMA's validation result if there is one.
        run_info: extra facts for the header (pipeline, run id, model path...), shown as given.

    Example:
        >>> render_evaluation_report("runs/ad_click/reports/evaluation.html", title="ad_click model",
        ...     eval_result_uri=evaluation_uri, blessed=summary.blessed)
    """
    loaded: dict[str, Any] = load_evaluation(eval_result_uri) if eval_result_uri else {}
    # Per-slice diffs only make sense next to the slices they were read with.
    slice_diffs = loaded.get("slice_diffs", {}) if slices is None else {}
    metrics = dict(metrics if metrics is not None else loaded.get("metrics", {}))
    slices = {k: dict(v) for k, v in (slices if slices is not None else loaded.get("slices", {})).items()}
    if isinstance(baseline_diff, Mapping) and isinstance(baseline_diff.get("diff"), Mapping):
        baseline_diff = baseline_diff["diff"]  # RunSummary.baseline
    diffs = {str(k).removesuffix("_diff"): float(v)  # RunSummary keeps TFMA's "<metric>_diff" names
             for k, v in (baseline_diff if baseline_diff is not None else loaded.get("baseline_diff", {})).items()}
    threshold_rows = _thresholds_dict(thresholds) if thresholds is not None else loaded.get("thresholds", {})
    failed = list(failed_thresholds) if failed_thresholds is not None else loaded.get("failures")
    validation_ok = loaded.get("validation_ok")
    if failed is None and validation_ok is not None:
        failed = []

    if blessed is True:
        verdict = badge("blessed", "ok")
    elif blessed is False:
        verdict = badge("not blessed", "bad")
    elif validation_ok is not None:
        verdict = badge("passes validation" if validation_ok else "fails validation", "ok" if validation_ok else "bad")
    else:
        verdict = badge("blessing unknown", "info")
    status = [verdict, " "]
    if failed:
        status += [badge(f"{len(failed)} failed threshold{'s' if len(failed) != 1 else ''}", "bad"), " "]
    status.append(tag("span", "compared with the baseline model" if diffs else
                      "no baseline model (first blessed model, or none older)", class_="muted"))

    failures_html = join([tag("h3", "Failed thresholds"),
                          tag("ul", join(tag("li", f) for f in failed), id="failures")]) if failed else Html("")
    all_values = {"overall": metrics, **slices}
    body = join([
        tag("header", join([tag("h1", title), tag("p", join(status), class_="status", id="status"),
                            key_values(run_info)])),
        section("Metrics (overall)", _metrics_table(metrics), section_id="metrics"),
        section("Comparison with the baseline", _baseline_table(metrics, diffs) if diffs else
                tag("p", "No baseline to compare with: this is the first model, or no earlier blessed model "
                         "exists. Only absolute thresholds (lower/upper bounds) applied.", class_="note"),
                section_id="baseline", note="difference = candidate - baseline" if diffs else None),
        section("Thresholds", join([_thresholds_table(threshold_rows, metrics, failed), failures_html]),
                section_id="thresholds"),
        section("Metrics by slice", _slices_table(slices, slice_diffs), section_id="slices",
                note="(difference from the baseline in brackets)" if slice_diffs else None),
        section("Plots", _plots_section(loaded.get("plots", {}), loaded.get("baseline_plots", {}), all_values),
                section_id="plots"),
    ])
    return write_atomic(out_path, page(title, body, kind="evaluation-report"))
