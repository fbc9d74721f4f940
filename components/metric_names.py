"""The one table of metric names: our config keys -> TFMA's metrics -> the names TFMA writes -> report rows.

A config says ``evaluation.metrics: [accuracy, r2]``; the Evaluator builds the TFMA (or
Keras) metric class the task needs (``BinaryAccuracy`` for binary, ``SparseCategoricalAccuracy``
for multiclass); TFMA writes its value under the metric's own name (``binary_accuracy``);
the reports and the summary show it under a label, in a fixed row order. Each of those is a
column of :data:`TABLE`, one row per config key, in the order the config lists them (and
the task defaults come in).

Cheap to import (no TFMA): the config and the reports read it too.

Example:
    >>> tfma_class("binary", "accuracy")
    ('BinaryAccuracy', '')
    >>> output_name("regression", "r2")
    'r_squared'
    >>> task_metrics("regression")[0]
    ['mae', 'rmse', 'r2', 'example_count']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KEYS",
    "ORDER",
    "TABLE",
    "TASKS",
    "Metric",
    "TaskMetric",
    "label",
    "lookup",
    "output_name",
    "output_name_of_class",
    "task_metrics",
    "tfma_class",
]

TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class TaskMetric:
    """How one config key is computed for one task.

    Attributes:
        class_name: The ``tfma.MetricConfig`` class name (TFMA's own, or Keras' when ``module`` is '').
        output: The name TFMA writes the value under (``metric_specs.metric_instance(...).name``).
        module: The module of a metric TFMA lacks, '' for TFMA's and Keras' own.
        default: Computed when the config lists no ``evaluation.metrics``.
        per_class: One value per class (one-vs-rest, TFMA's ``binarize``), ``precision[classId:2]``.
        label: The report's row label; default ``output``, the name TFMA and the summary use.
    """

    class_name: str
    output: str
    module: str = ""
    default: bool = False
    per_class: bool = False
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.output


@dataclass(frozen=True)
class Metric:
    """One config key (``evaluation.metrics``): its report row and, per task that allows it, its TFMA metric."""

    key: str
    row: int  # position in the report (0 first); a key's outputs for several tasks keep task order
    binary: TaskMetric | None = None
    multiclass: TaskMetric | None = None
    regression: TaskMetric | None = None

    @property
    def tasks(self) -> dict[str, TaskMetric]:
        """``{task: entry}`` for the tasks that allow this key, in :data:`TASKS` order."""
        return {task: entry for task in TASKS if (entry := getattr(self, task)) is not None}


_COUNT = TaskMetric("ExampleCount", "example_count", default=True)
_MEAN_LABEL = TaskMetric("MeanLabel", "mean_label")
_MEAN_PREDICTION = TaskMetric("MeanPrediction", "mean_prediction")

# A class with no module is TFMA's own, or Keras' (SparseCategoricalAccuracy, SparseCategoricalCrossentropy,
# RootMeanSquaredError): TFMA looks in tfma.metrics first, then in Keras.
TABLE: tuple[Metric, ...] = (
    Metric("auc", 1, binary=TaskMetric("AUC", "auc", default=True)),
    Metric("auc_pr", 2, binary=TaskMetric("AUCPrecisionRecall", "auc_precision_recall")),
    Metric(
        "accuracy",
        3,
        binary=TaskMetric("BinaryAccuracy", "binary_accuracy", default=True),
        multiclass=TaskMetric("SparseCategoricalAccuracy", "sparse_categorical_accuracy", default=True),
    ),
    Metric(
        "precision",
        4,
        binary=TaskMetric("Precision", "precision", default=True),
        multiclass=TaskMetric("Precision", "precision", default=True, per_class=True),
    ),
    Metric(
        "recall",
        5,
        binary=TaskMetric("Recall", "recall", default=True),
        multiclass=TaskMetric("Recall", "recall", default=True, per_class=True),
    ),
    Metric("calibration", 6, binary=TaskMetric("Calibration", "calibration", default=True)),
    Metric(
        "log_loss",
        7,
        binary=TaskMetric("BinaryCrossEntropy", "binary_crossentropy"),
        multiclass=TaskMetric("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", default=True),
    ),
    Metric("mae", 8, regression=TaskMetric("MeanAbsoluteError", "mean_absolute_error", default=True)),
    Metric("mse", 9, regression=TaskMetric("MeanSquaredError", "mean_squared_error")),
    Metric("rmse", 10, regression=TaskMetric("RootMeanSquaredError", "root_mean_squared_error", default=True)),
    Metric("r2", 11, regression=TaskMetric("RSquared", "r_squared", "components.tfma_metrics", default=True)),
    Metric("example_count", 0, binary=_COUNT, multiclass=_COUNT, regression=_COUNT),
    Metric("mean_label", 12, binary=_MEAN_LABEL, regression=_MEAN_LABEL),
    Metric("mean_prediction", 13, binary=_MEAN_PREDICTION, regression=_MEAN_PREDICTION),
)
KEYS: tuple[str, ...] = tuple(m.key for m in TABLE)  # the config's allowed values, in this order
_BY_KEY = {m.key: m for m in TABLE}
# Names TFMA may write that no config key asks for: its default `loss` (results written before
# `include_default_metrics` was turned off).
_REPORT_ONLY = ("loss",)


def _ordered_outputs() -> list[str]:
    names: list[str] = []
    for metric in sorted(TABLE, key=lambda m: m.row):
        for task in TASKS:
            entry = metric.tasks.get(task)
            if entry is not None and entry.output not in names:
                names.append(entry.output)
    return names + [n for n in _REPORT_ONLY if n not in names]


ORDER: list[str] = _ordered_outputs()  # TFMA output names in report row order; others follow, sorted
_LABELS = {entry.output: entry.shown for m in TABLE for entry in m.tasks.values()}
_BY_CLASS = {entry.class_name: entry.output for m in TABLE for entry in m.tasks.values()}


def lookup(task: str, key: str) -> TaskMetric:
    """The table entry of config key ``key`` for ``task``.

    Raises:
        ValueError: ``key`` is not a metric of ``task``; the message lists the ones that are.

    Example:
        >>> lookup("multiclass", "precision").per_class
        True
    """
    metric = _BY_KEY.get(key)
    entry = metric.tasks.get(task) if metric is not None else None
    if entry is None:
        allowed = ", ".join(sorted(task_metrics(task)[1])) if task in TASKS else f"(no task {task!r})"
        raise ValueError(f"{key!r} is not a {task} metric; choose from {allowed}")
    return entry


def tfma_class(task: str, key: str) -> tuple[str, str]:
    """(``MetricConfig`` class name, module or '' for TFMA's and Keras' own) of config key ``key``.

    Example:
        >>> tfma_class("multiclass", "log_loss")
        ('SparseCategoricalCrossentropy', '')
    """
    entry = lookup(task, key)
    return entry.class_name, entry.module


def output_name(task: str, key: str) -> str:
    """The name TFMA writes config key ``key``'s value under for ``task``.

    Example:
        >>> output_name("binary", "auc_pr")
        'auc_precision_recall'
    """
    return lookup(task, key).output


def output_name_of_class(class_name: str) -> str | None:
    """The output name of a ``MetricConfig`` class name in the table (as ``eval_config.json`` has it), else None.

    Example:
        >>> output_name_of_class("BinaryAccuracy")
        'binary_accuracy'
    """
    return _BY_CLASS.get(class_name)


def label(output: str) -> str:
    """The report's row label of a TFMA output name; a per-class one keeps its class
    (``precision[classId:2]``); a name the table lacks is shown as is.

    Example:
        >>> label("r_squared"), label("precision[classId:2]"), label("my_metric")
        ('r_squared', 'precision[classId:2]', 'my_metric')
    """
    base, bracket, rest = output.partition("[")
    return _LABELS.get(base, base) + bracket + rest


def task_metrics(task: str) -> tuple[list[str], set[str]]:
    """(default config keys in config order, allowed config keys) of ``task``.

    Example:
        >>> task_metrics("multiclass")[0]
        ['accuracy', 'precision', 'recall', 'log_loss', 'example_count']
    """
    defaults = [m.key for m in TABLE if task in m.tasks and m.tasks[task].default]
    return defaults, {m.key for m in TABLE if task in m.tasks}
