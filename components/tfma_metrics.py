"""TFMA metrics TFMA lacks: the coefficient of determination (R²) for regression.

``SquaredPearsonCorrelation`` is r² of the best *linear rescaling* of the predictions;
R² = 1 - SSE / SST scores the predictions as served, so a biased model scores lower
and a model worse than predicting the mean scores below 0.

Used through ``MetricConfig(class_name="RSquared", module="components.tfma_metrics")``, as the
``r2`` row of ``components.metric_names`` says; TFMA writes it as ``r_squared``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.metric_names import output_name

R_SQUARED_NAME = output_name("regression", "r2")


class RSquared(metric_types.Metric):
    """1 - sum((y - p)²) / sum((y - mean(y))²), example-weighted when weights are configured."""

    def __init__(self, name: str = R_SQUARED_NAME) -> None:
        super().__init__(metric_util.merge_per_key_computations(_computations), name=name)


def _computations(
    name: str | None = None,
    eval_config: Any = None,
    model_name: str = "",
    output_name: str = "",
    example_weighted: bool = False,
    sub_key: Any = None,
    aggregation_type: Any = None,
    class_weights: Any = None,
) -> metric_types.MetricComputations:
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, sub_key=sub_key, example_weighted=example_weighted
    )
    return [
        metric_types.MetricComputation(
            keys=[key], preprocessors=None, combiner=_Combiner(key, eval_config, example_weighted)
        )
    ]


@dataclasses.dataclass
class _Sums:
    w: float = 0.0
    y: float = 0.0
    yy: float = 0.0
    sse: float = 0.0

    def add(self, other: _Sums) -> None:
        self.w += other.w
        self.y += other.y
        self.yy += other.yy
        self.sse += other.sse


class _Combiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, eval_config: Any, example_weighted: bool) -> None:
        self._key, self._eval_config, self._weighted = key, eval_config, example_weighted

    def create_accumulator(self) -> _Sums:
        return _Sums()

    def add_input(self, acc: _Sums, element: metric_types.StandardMetricInputs) -> _Sums:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._key.model_name,
            output_name=self._key.output_name,
            example_weighted=self._weighted,
            sub_key=self._key.sub_key,
        ):
            y, p, w = (metric_util.safe_to_scalar(v) for v in (label, prediction, weight))
            acc.w += w
            acc.y += w * y
            acc.yy += w * y * y
            acc.sse += w * (y - p) ** 2
        return acc

    def merge_accumulators(self, accumulators: Iterable[_Sums]) -> _Sums:
        it = iter(accumulators)
        result = next(it)
        for acc in it:
            result.add(acc)
        return result

    def extract_output(self, acc: _Sums) -> dict[metric_types.MetricKey, float]:
        sst = acc.yy - acc.y * acc.y / acc.w if acc.w else 0.0
        return {self._key: 1.0 - acc.sse / sst if sst > 0 else float("nan")}


metric_types.register_metric(RSquared)
