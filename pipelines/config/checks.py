"""Cross-field checks on a validated config: static rules only (no file is read).

Each check returns ``(dotted key, message)`` pairs whose message names both sides and the
fix; ``load_config`` runs every one in :data:`CHECKS` and reports all problems at once.
Checks of the world (the data folder, the schema file, the CSV header, user modules) live
in ``pipelines.data.environment`` and run only in the commands that read data.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pipelines.config.evaluation import TASK_METRICS
from pipelines.config.models import PipelineConfig
from pipelines.config.source import KeyProblem
from pipelines.config.tuning import OBJECTIVES

__all__ = [
    "CHECKS",
    "check_label_not_feature",
    "check_metrics_fit_task",
    "check_slices_are_features",
    "check_some_feature_used",
    "check_thresholds_are_metrics",
    "check_tuning_space",
    "check_validation_features",
]


def check_label_not_feature(cfg: PipelineConfig) -> list[KeyProblem]:
    if cfg.label.column in cfg.features:
        return [
            (
                f"features.{cfg.label.column}",
                f"{cfg.label.column!r} is the label (label.column); remove it from features",
            )
        ]
    return []


def check_some_feature_used(cfg: PipelineConfig) -> list[KeyProblem]:
    if not cfg.used_features and cfg.trainer.run_fn is None:
        return [("features", "every feature is `drop`; the model needs at least one input")]
    return []


def check_validation_features(cfg: PipelineConfig) -> list[KeyProblem]:
    v = cfg.validation
    problems = [
        (f"validation.allow.{f}", f"{f!r} is not in features or the label")
        for f in v.allow
        if f not in cfg.features and f != cfg.label.column and f != "(dataset)"
    ]
    problems += [
        (f"validation.drift.features.{f}", f"{f!r} is not in features")
        for f in v.drift.features
        if f not in cfg.features
    ]
    return problems


def check_thresholds_are_metrics(cfg: PipelineConfig) -> list[KeyProblem]:
    return [
        (f"evaluation.thresholds.{m}", f"threshold on {m!r}, which is not in evaluation.metrics; add it there")
        for m in cfg.evaluation.thresholds or {}
        if m not in cfg.evaluation.metrics
    ]


def check_metrics_fit_task(cfg: PipelineConfig) -> list[KeyProblem]:
    task = cfg.label.task
    allowed = TASK_METRICS[task][1]
    return [
        (f"evaluation.metrics[{i}]", f"{m!r} is not a {task} metric; choose from {', '.join(sorted(allowed))}")
        for i, m in enumerate(cfg.evaluation.metrics)
        if m not in allowed
    ]


def check_slices_are_features(cfg: PipelineConfig) -> list[KeyProblem]:
    problems = []
    for i, sl in enumerate(cfg.evaluation.slices):
        for name in [sl] if isinstance(sl, str) else sl:
            if name not in cfg.features:
                problems.append((f"evaluation.slices[{i}]", f"slice feature {name!r} is not in features"))
    return problems


def check_plot_range_is_regression(cfg: PipelineConfig) -> list[KeyProblem]:
    if cfg.evaluation.plot_range is not None and cfg.label.task != "regression":
        return [("evaluation.plot_range", f"is for label.task regression, not {cfg.label.task}; remove it")]
    return []


def check_tuning_space(cfg: PipelineConfig) -> list[KeyProblem]:
    """The tuned settings exist, every candidate is a valid value there, and the objective fits the task."""
    if cfg.tuning is None:
        return []
    problems: list[KeyProblem] = []
    if cfg.trainer.run_fn is not None:
        problems.append(("tuning", "tunes the generic model; remove trainer.run_fn or the tuning section"))
    metric = cfg.tuning.objective.metric
    if cfg.label.task not in OBJECTIVES[metric][1]:
        fits = ", ".join(m for m, (_, tasks) in OBJECTIVES.items() if cfg.label.task in tasks)
        problems.append(("tuning.objective.metric", f"{metric!r} is not a {cfg.label.task} metric; choose from {fits}"))
    for key, rng in cfg.tuning.flat_space().items():
        section, *rest = key.split(".")
        if section == "features":
            feature, setting = rest
            f = cfg.features.get(feature)
            if f is None:
                problems.append((f"tuning.space.{key}", f"{feature!r} is not in features"))
                continue
            if setting not in type(f).model_fields:
                problems.append((f"tuning.space.{key}", f"transform {f.transform!r} has no {setting}; tune another"))
                continue
            current: Any = f
        else:
            setting, current = rest[0], getattr(cfg, section)
        for value in rng.values:
            try:
                type(current).model_validate({**current.model_dump(by_alias=True), setting: value})
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
                problems.append((f"tuning.space.{key}", f"{value!r} is not a valid {key}: {reason}"))
                break
    return problems


CHECKS = (
    check_plot_range_is_regression,
    check_label_not_feature,
    check_some_feature_used,
    check_validation_features,
    check_metrics_fit_task,
    check_thresholds_are_metrics,
    check_slices_are_features,
    check_tuning_space,
)
