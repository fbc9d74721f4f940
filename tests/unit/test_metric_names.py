"""The one table of metric names: config keys, task defaults, TFMA output names, report order (no TFMA)."""

from __future__ import annotations

import typing

import pytest

from components import metric_names
from pipelines.config import METRICS, TASK_METRICS, TASKS
from pipelines.config.evaluation import MetricName


def test_config_keys_and_tasks_come_from_the_table() -> None:
    assert (
        METRICS
        == metric_names.KEYS
        == typing.get_args(MetricName)
        == (
            "auc",
            "auc_pr",
            "accuracy",
            "precision",
            "recall",
            "calibration",
            "log_loss",
            "mae",
            "mse",
            "rmse",
            "r2",
            "example_count",
            "mean_label",
            "mean_prediction",
        )
    )
    assert TASKS == metric_names.TASKS
    assert {task: metric_names.task_metrics(task) for task in TASKS} == TASK_METRICS


def test_task_defaults_and_allowed() -> None:
    assert metric_names.task_metrics("binary") == (
        ["auc", "accuracy", "precision", "recall", "calibration", "example_count"],
        {
            "auc",
            "auc_pr",
            "accuracy",
            "precision",
            "recall",
            "calibration",
            "log_loss",
            "example_count",
            "mean_label",
            "mean_prediction",
        },
    )
    assert metric_names.task_metrics("multiclass") == (
        ["accuracy", "precision", "recall", "log_loss", "example_count"],
        {"accuracy", "precision", "recall", "log_loss", "example_count"},
    )
    assert metric_names.task_metrics("regression") == (
        ["mae", "rmse", "r2", "example_count"],
        {"mae", "mse", "rmse", "r2", "example_count", "mean_label", "mean_prediction"},
    )


@pytest.mark.parametrize(
    ("task", "key", "cls", "output"),
    [
        ("binary", "accuracy", ("BinaryAccuracy", ""), "binary_accuracy"),
        ("multiclass", "accuracy", ("SparseCategoricalAccuracy", ""), "sparse_categorical_accuracy"),
        ("binary", "auc_pr", ("AUCPrecisionRecall", ""), "auc_precision_recall"),
        ("binary", "log_loss", ("BinaryCrossEntropy", ""), "binary_crossentropy"),
        ("multiclass", "log_loss", ("SparseCategoricalCrossentropy", ""), "sparse_categorical_crossentropy"),
        ("regression", "r2", ("RSquared", "components.tfma_metrics"), "r_squared"),
        ("regression", "rmse", ("RootMeanSquaredError", ""), "root_mean_squared_error"),
    ],
)
def test_tfma_class_and_output_name(task: str, key: str, cls: tuple[str, str], output: str) -> None:
    assert metric_names.tfma_class(task, key) == cls
    assert metric_names.output_name(task, key) == output
    assert metric_names.output_name_of_class(cls[0]) == output


@pytest.mark.parametrize(
    ("task", "key", "match"),
    [
        ("multiclass", "auc", r"'auc' is not a multiclass metric; choose from accuracy, example_count, log_loss"),
        ("regression", "f1", r"'f1' is not a regression metric; choose from example_count, mae"),
        ("ranking", "auc", r"'auc' is not a ranking metric; choose from \(no task 'ranking'\)"),
    ],
)
def test_pairs_outside_the_table_are_rejected(task: str, key: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        metric_names.tfma_class(task, key)


def test_only_multiclass_precision_and_recall_are_per_class() -> None:
    per_class = {(task, m.key) for m in metric_names.TABLE for task, e in m.tasks.items() if e.per_class}
    assert per_class == {("multiclass", "precision"), ("multiclass", "recall")}


def test_report_order() -> None:
    order = metric_names.ORDER
    outputs = {e.output for m in metric_names.TABLE for e in m.tasks.values()}
    assert len(order) == len(set(order)) and outputs <= set(order)
    # The order the report had before the table: kept.
    before = [
        "example_count",
        "auc",
        "auc_precision_recall",
        "binary_accuracy",
        "precision",
        "recall",
        "calibration",
        "mean_label",
        "mean_prediction",
        "loss",
    ]
    assert [n for n in order if n in before] == before
    assert order.index("mean_absolute_error") < order.index("root_mean_squared_error") < order.index("r_squared")


def test_labels() -> None:
    assert metric_names.label("binary_accuracy") == "binary_accuracy"  # what the report and summary print
    assert metric_names.label("precision[classId:2]") == "precision[classId:2]"
    assert metric_names.label("not_in_the_table") == "not_in_the_table"
