"""Reading a TFMA ModelEvaluation: one reader for the summary, the pusher and the HTML report.

Metric names are TFMA's (``auc``, ``binary_accuracy``, ``mean_absolute_error``...; which
config key each comes from is the table in ``components.metric_names``);
a per-class metric gets its class in brackets, ``precision[classId:2]``; a comparison
with the baseline ends in ``_diff``. Slices are named ``overall`` or ``male=0``
(``country=DE, male=1`` for a cross).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any


def slice_name(slice_key: Iterable[tuple[str, Any]]) -> str:
    parts = [f"{k}={v.decode() if isinstance(v, bytes) else v}" for k, v in slice_key]
    return ", ".join(parts) if parts else "overall"


def number(value: Any) -> float | None:
    """TFMA's JSON numbers: 0.5, "NaN", "Infinity", {"value": 0.5}, {"doubleValue": 0.5}; None if not finite."""
    if isinstance(value, dict):
        value = value.get("value", value.get("doubleValue"))
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def metrics_by_slice(result: Any) -> dict[str, dict[str, float]]:
    """``{slice: {metric: value}}`` of a loaded ``tfma.EvalResult`` (candidate values and ``_diff``s)."""
    by_slice: dict[str, dict[str, float]] = {}
    for slice_key, by_output in result.slicing_metrics or []:
        for by_class in by_output.values():
            for sub_key, values in by_class.items():
                for name, value in values.items():
                    value_number = number(value)
                    if value_number is not None:
                        key = f"{name}[{sub_key}]" if sub_key else name
                        by_slice.setdefault(slice_name(slice_key), {})[key] = value_number
    return by_slice


@functools.lru_cache(maxsize=4)
def load_result(uri: str, model_name: str | None = None) -> Any:
    """``tfma.load_eval_result`` of an Evaluator output folder, read once per process.

    An artifact folder never changes once its component finished, and after a run the summary
    and the evaluation report both read it (metrics, then metrics and plots). Treat it as read-only.
    """
    import tensorflow_model_analysis as tfma

    return tfma.load_eval_result(uri, model_name=model_name)


def read_metrics(uri: str, model_name: str | None = None) -> dict[str, dict[str, float]]:
    """``metrics_by_slice`` of the Evaluator output folder ``uri``."""
    return metrics_by_slice(load_result(uri, model_name))


BySlice = dict[str, dict[str, float]]  # {slice: {metric: value}}


def split_diffs(by_slice: BySlice) -> tuple[BySlice, BySlice]:
    """(values, diffs vs the baseline with the ``_diff`` suffix removed), both by slice."""
    values: dict[str, dict[str, float]] = {}
    diffs: dict[str, dict[str, float]] = {}
    for name, metrics in by_slice.items():
        for metric, value in metrics.items():
            base = metric.replace("_diff", "", 1) if "_diff" in metric else None
            if base is not None:
                diffs.setdefault(name, {})[base] = value
            else:
                values.setdefault(name, {})[metric] = value
    return values, diffs


def overall_metrics(uri: str) -> dict[str, float]:
    """The overall-slice candidate metrics (no baseline diffs)."""
    return split_diffs(read_metrics(uri))[0].get("overall", {})
