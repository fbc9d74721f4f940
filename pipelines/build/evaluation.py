"""The Evaluator's TFMA ``EvalConfig`` from the config's ``evaluation`` section, by task.

Which TFMA metric each of our metric keys becomes is the table in ``components.metric_names``.
"""

from __future__ import annotations

import json
from typing import Any

from components import filesystem as fs
from components import metric_names
from pipelines.config import PipelineConfig

# Plot data for the evaluation report, by task: binary ROC, precision-recall and calibration;
# multiclass a confusion matrix; regression predicted against actual and residuals, both from
# TFMA's CalibrationPlot over the label's range (:func:`regression_plot`).
_PLOTS = {
    "binary": ["ConfusionMatrixPlot", "CalibrationPlot"],
    "multiclass": ["MultiClassConfusionMatrixPlot"],
    "regression": [],
}
# How TFMA loads the candidate and baseline SavedModels (see eval_config).
MODEL_TYPE = "tf_generic"
# Prediction buckets of the regression plots inside the label's range (plus one below, one above).
REGRESSION_PLOT_BUCKETS = 20


def label_range(config: PipelineConfig) -> tuple[float, float] | None:
    """``evaluation.plot_range``, else (min, max) of the label's ``float_domain``/``int_domain`` in the
    curated schema; None without either.

    TFMA's own rule for a calibration plot's bounds (it reads the label's domain from a
    schema), applied here because the EvalConfig is built before any data is seen.

    Example:
        >>> label_range(load_config("configs/house_prices.yaml"))  # label: price, float_domain {min: 0 max: 2e6}
        (0.0, 2000000.0)
    """
    if config.evaluation.plot_range is not None:
        low, high = config.evaluation.plot_range
        return float(low), float(high)
    if not config.schema_.path or not fs.exists(config.schema_.path):
        return None
    from components.schema_file import find_feature, read_schema

    feature = find_feature(read_schema(config.schema_.path), config.label.column)
    which = feature.WhichOneof("domain_info") if feature is not None else None
    domain = getattr(feature, which) if which in ("float_domain", "int_domain") else None
    if domain is not None and domain.HasField("min") and domain.HasField("max") and domain.max > domain.min:
        return float(domain.min), float(domain.max)
    return None


def regression_plot(config: PipelineConfig) -> Any:
    """TFMA's ``CalibrationPlot`` over the label's range: mean label per prediction bucket, for the
    report's predicted-against-actual and residual charts; None when the label has no range."""
    import tensorflow_model_analysis as tfma

    bounds = label_range(config)
    if bounds is None:
        return None
    left, right = bounds
    kwargs = {"left": left, "right": right, "num_buckets": REGRESSION_PLOT_BUCKETS}
    return tfma.MetricConfig(class_name="CalibrationPlot", config=json.dumps(kwargs))


def _threshold(t: Any) -> Any:
    import tensorflow_model_analysis as tfma

    value = change = None
    if t.lower_bound is not None or t.upper_bound is not None:
        value = tfma.GenericValueThreshold(
            lower_bound={"value": t.lower_bound} if t.lower_bound is not None else None,
            upper_bound={"value": t.upper_bound} if t.upper_bound is not None else None,
        )
    if t.change is not None:
        direction = (
            tfma.MetricDirection.HIGHER_IS_BETTER
            if t.change.direction == "higher_is_better"
            else tfma.MetricDirection.LOWER_IS_BETTER
        )
        change = tfma.GenericChangeThreshold(
            direction=direction,
            absolute={"value": t.change.absolute} if t.change.absolute is not None else None,
            relative={"value": t.change.relative} if t.change.relative is not None else None,
        )
    return tfma.MetricThreshold(value_threshold=value, change_threshold=change)


def eval_config(config: PipelineConfig) -> Any:
    """The TFMA EvalConfig: metrics, slices and blessing thresholds from ``evaluation``, by task.

    Multiclass precision and recall are per class (one-vs-rest, ``binarize``). Labels
    that are not already the training target (Yes/No, class names) are read through the
    model's ``transform_features`` signature, i.e. exactly as the Trainer saw them.
    """
    import tensorflow_model_analysis as tfma

    from components.spec import OUTPUT_KEYS
    from components.trainer import EXAMPLES_SIGNATURE, TRANSFORM_SIGNATURE

    ev, task = config.evaluation, config.label.task
    overall, per_class = [], []
    for name in ev.metrics:
        entry = metric_names.lookup(task, name)
        t = ev.thresholds.get(name)
        metric = tfma.MetricConfig(
            class_name=entry.class_name, module=entry.module, threshold=_threshold(t) if t is not None else None
        )
        (per_class if entry.per_class else overall).append(metric)
    overall += [tfma.MetricConfig(class_name=plot) for plot in _PLOTS[task]]
    if task == "regression" and (plot := regression_plot(config)) is not None:
        overall.append(plot)
    specs = [tfma.MetricsSpec(metrics=overall)]
    if per_class:
        n = len(config.label.class_names)
        specs.append(
            tfma.MetricsSpec(metrics=per_class, binarize=tfma.BinarizationOptions(class_ids={"values": list(range(n))}))
        )
    slices = [tfma.SlicingSpec()] + [
        tfma.SlicingSpec(feature_keys=[s] if isinstance(s, str) else list(s)) for s in ev.slices
    ]
    label_is_target = task == "regression" or (task == "binary" and config.label.positive is None)
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                # A plain SavedModel through its signatures: without a type, TFMA loads each model as a
                # Keras model once only to find its type, then again to evaluate (tf_keras, rebuilding
                # every layer); TFMA needs neither, it calls the signatures.
                model_type=MODEL_TYPE,
                signature_name=EXAMPLES_SIGNATURE,
                label_key=config.label.column,
                prediction_key=OUTPUT_KEYS[task],
                preprocessing_function_names=[] if label_is_target else [TRANSFORM_SIGNATURE],
            )
        ],
        metrics_specs=specs,
        slicing_specs=slices,
        # TFMA's default adds the model's compiled loss, which makes every metrics DoFn load the
        # Keras model again (18 loads instead of 4 with a baseline): 26.5 s -> 10.9 s on 4k eval rows.
        options=tfma.Options(include_default_metrics={"value": False}),
    )
