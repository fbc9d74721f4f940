"""The ``monitoring:`` section: what ``pipelines.monitor`` compares the request log with, and its bounds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from pipelines.config.base import Strict as _Strict
from pipelines.config.base import abspath as _abspath

__all__ = ["MonitoringSection"]


class MonitoringSection(_Strict):
    """Bounds in the validation gate's style: L-infinity (categorical), Jensen-Shannon (numeric)."""

    window_hours: float = Field(
        24.0, gt=0, description="Without --since: the window is the last this-many hours of the request log."
    )
    skew_threshold: float = Field(
        0.1, gt=0, description="Skew bound: served inputs vs the serving version's training statistics."
    )
    categorical_threshold: float = Field(0.1, gt=0, description="Drift bound (L-infinity) vs the previous window.")
    numeric_threshold: float = Field(0.1, gt=0, description="Drift bound (Jensen-Shannon) vs the previous window.")
    features: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Per-feature skew and drift bounds, e.g. {age: 0.05}."
    )
    live_margin: float = Field(
        0.05, ge=0, description="Flag a version whose live metric is this far below its evaluation at push time."
    )
    min_labelled: int = Field(100, ge=1, description="Labelled predictions a version needs before it is judged.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence of the canary-vs-stable interval.")
    report_dir: str | None = Field(
        None, description="Folder (local or gs://) for the JSON and HTML reports; default <pipeline.root>/monitoring."
    )

    _abs = field_validator("report_dir")(_abspath)
