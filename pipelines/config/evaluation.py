"""The ``evaluation`` section: metrics per task, slices and blessing thresholds.

Metric keys, the tasks that allow them and the task defaults come from the one table of
metric names (``components.metric_names``).

Example:
    >>> TASK_METRICS["regression"][0]
    ['mae', 'rmse', 'r2', 'example_count']
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import metric_names
from pipelines.config.base import Strict as _Strict


class ChangeThreshold(_Strict):
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"
    absolute: float | None = Field(None, description="Allowed change vs the baseline, e.g. -0.01 (may drop by 0.01).")
    relative: float | None = Field(None, description="Allowed relative change vs the baseline.")

    @model_validator(mode="after")
    def _one_bound(self) -> ChangeThreshold:
        if self.absolute is None and self.relative is None:
            raise ValueError("set 'absolute' or 'relative' (or both)")
        return self


class Threshold(_Strict):
    lower_bound: float | None = Field(None, description="Absolute bar the candidate must reach.")
    upper_bound: float | None = Field(None, description="Absolute ceiling the candidate must stay under.")
    change: ChangeThreshold | None = Field(None, description="Comparison against the latest blessed model.")

    @model_validator(mode="after")
    def _something(self) -> Threshold:
        if self.lower_bound is None and self.upper_bound is None and self.change is None:
            raise ValueError("set lower_bound, upper_bound or change")
        return self


# Our metric keys, which tasks allow them and which are the default: the table in components.metric_names.
MetricName = Literal[metric_names.KEYS]  # type: ignore[valid-type]  # built from the table at run time
METRICS: tuple[str, ...] = metric_names.KEYS
# Which metrics make sense for which task; the first list of each is the default.
TASK_METRICS: dict[str, tuple[list[str], set[str]]] = {
    task: metric_names.task_metrics(task) for task in metric_names.TASKS
}


def default_thresholds(task: str, n_classes: int = 2) -> dict[str, Threshold]:
    """Blessing bars when the config sets none: beat a trivial model, and do not lose to the served one."""
    if task == "multiclass":
        # Better than guessing uniformly by 5 points; at most 1 point of accuracy lost vs the baseline.
        return {
            "accuracy": Threshold(lower_bound=round(1.0 / n_classes + 0.05, 4), change=ChangeThreshold(absolute=-0.01))
        }
    if task == "regression":
        # Better than predicting the mean (R² > 0); MAE at most 2% worse than the baseline's.
        return {
            "r2": Threshold(lower_bound=0.0),
            "mae": Threshold(change=ChangeThreshold(direction="lower_is_better", relative=0.02)),
        }
    return {"auc": Threshold(lower_bound=0.6, change=ChangeThreshold(absolute=-0.01))}


class EvaluationSection(_Strict):
    metrics: list[MetricName] = Field(
        default_factory=list,
        description="Default by task: binary auc, accuracy, precision, recall, calibration; "
        "multiclass accuracy, per-class precision and recall, log_loss; regression mae, rmse, r2.",
    )
    slices: list[str | list[str]] = Field(
        default_factory=list, description="Feature slices (a name, or a list for a cross); overall is always computed."
    )
    thresholds: dict[MetricName, Threshold] | None = Field(
        None,
        description="Blessing bars per metric; all must pass to push. Default by task (`default_thresholds`); "
        "{} blesses every model.",
    )
    plot_range: tuple[float, float] | None = Field(
        None,
        description="regression only: [low, high] of the label, the span of the report's predicted-against-actual "
        "and residual plots; default: the label's float_domain/int_domain min and max in the curated schema.",
    )

    @field_validator("plot_range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError("must be [low, high] with low < high")
        return v
