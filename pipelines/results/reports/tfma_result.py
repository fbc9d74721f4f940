"""Reading an Evaluator output folder (TFMA) into the evaluation report's inputs.

Metric values come through :mod:`components.evaluation_results` (the reader the summary and
the pusher use too), thresholds from the folder's ``eval_config.json``, failures from TFMA's
validation result, and plot data (``CalibrationPlot``, ``ConfusionMatrixPlot``) as TFMA's
nested dicts. TensorFlow Model Analysis is imported only inside the functions that read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from components import filesystem as fs
from components.evaluation_results import load_result, metrics_by_slice, number, slice_name, split_diffs
from components.metric_names import output_name_of_class

__all__ = ["load_evaluation"]


def _proto_slice_name(slice_key: Any) -> str:
    pairs = []
    for key in slice_key.single_slice_keys:
        which = key.WhichOneof("kind")
        pairs.append((key.column, getattr(key, which) if which else ""))
    return slice_name(pairs)


def _metric_output_name(class_name: str, config: str | None = None) -> str:
    """The name TFMA writes a ``MetricConfig`` under: its configured ``name``, the table's, or TFMA's rule."""
    try:
        configured = json.loads(config or "{}").get("name")
    except (ValueError, AttributeError):
        configured = None
    # A class the table lacks (a Keras or custom metric): TFMA's rule, CamelCase -> snake_case.
    return configured or output_name_of_class(class_name) or re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", class_name).lower()


def _threshold_row(threshold: Mapping[str, Any]) -> dict[str, Any]:
    """A TFMA MetricThreshold as JSON -> {lower_bound, upper_bound, change}."""
    value = threshold.get("valueThreshold") or {}
    change = threshold.get("changeThreshold")
    return {
        "lower_bound": number(value.get("lowerBound")),
        "upper_bound": number(value.get("upperBound")),
        "change": None
        if not change
        else {
            "direction": str(change.get("direction", "")).lower() or None,
            "absolute": number(change.get("absolute")),
            "relative": number(change.get("relative")),
        },
    }


def _read_eval_config(uri: str) -> tuple[str | None, str | None, dict[str, dict[str, Any]]]:
    """(candidate model name, baseline model name, thresholds by metric name) from ``eval_config.json``."""
    path = fs.join(uri, "eval_config.json")
    if not fs.exists(path):
        return None, None, {}
    config = json.loads(fs.read_text(path)).get("evalConfig", {})
    specs = config.get("modelSpecs", [])
    candidate = next((s.get("name", "") for s in specs if not s.get("isBaseline")), None)
    baseline = next((s.get("name", "") for s in specs if s.get("isBaseline")), None)
    thresholds: dict[str, dict[str, Any]] = {}
    for spec in config.get("metricsSpecs", []):
        for metric in spec.get("metrics", []):
            if metric.get("threshold"):
                name = _metric_output_name(metric.get("className", ""), metric.get("config"))
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
    result = load_result(uri, model_name)  # the summary read the same folder just before
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

    if not fs.isdir(eval_result_uri):
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
    if fs.glob(fs.join(eval_result_uri, "validations*")):
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
