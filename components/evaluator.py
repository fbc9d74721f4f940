"""TFX's Evaluator executor with one guard: a baseline that is the candidate itself is dropped.

Which engine resolves the baseline decides how it is chosen (``pipelines.build.baseline``):
locally the custom ``PreviousBlessedModelStrategy`` never returns the candidate; on Vertex
AI the stock ``LatestBlessedModelStrategy`` does when the Trainer was cached. This guard
makes that case an evaluation without a baseline (the first run's checks) instead of a
model compared with itself.

With a prewarmed infra checker (a local run, ``pipelines.execute``) it first hands the checker the
candidate and a few eval rows (``components.infra_check.start_check``): the load and query the
Pusher needs run in that child process during the evaluation, and the Pusher collects the verdict.

On the DirectRunner it builds no ``tfx_ephemeral`` sdist of TFX first (``components.local_beam``).

After the evaluation it lets go of the models TFMA loaded: Beam's ``Shared`` keeps the last
object it handed out alive, and a SavedModel (``tf_generic``, see ``pipelines.build.evaluation``)
first collected at interpreter exit prints "Exception ignored in AtomicFunction.__del__".
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from apache_beam.utils import shared
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.types import standard_component_specs as keys

from components.baseline import is_self_baseline
from components.local_beam import LocalBeamExecutor

_log = logging.getLogger(__name__)


class Executor(LocalBeamExecutor, tfx_evaluator.Executor):
    """``tfx.components.Evaluator``'s executor, minus a self-baseline (and the sdist on the DirectRunner)."""

    def Do(
        self, input_dict: dict[str, list[Any]], output_dict: dict[str, list[Any]], exec_properties: dict[str, Any]
    ) -> None:
        baseline = input_dict.get(keys.BASELINE_MODEL_KEY) or []
        candidate = input_dict.get(keys.MODEL_KEY) or []
        if baseline and is_self_baseline([a.uri for a in candidate], [a.uri for a in baseline]):
            _log.warning(
                "baseline model %s is the candidate itself (a cached Trainer): evaluating without one", baseline[0].uri
            )
            input_dict = {k: v for k, v in input_dict.items() if k != keys.BASELINE_MODEL_KEY}
        start_infra_check(candidate, input_dict.get(keys.EXAMPLES_KEY) or [])
        try:
            super().Do(input_dict, output_dict, exec_properties)
        finally:
            release_shared_models()


def start_infra_check(models: list[Any], examples: list[Any]) -> bool:
    """Hand a prewarmed infra checker the candidate now (``components.infra_check.start_check``);
    False when there is none or the rows cannot be read (the Pusher then checks as before)."""
    from components import infra_check

    if not models or not infra_check.has_warm():
        return False
    from components.infra_query import check_files
    from components.pusher import INFRA_ROWS, infra_rows, serving_model_dir

    try:
        model_dir = serving_model_dir(models[0])
        if check_files(model_dir) is not None:  # no SavedModel: the Pusher says so
            return False
        return infra_check.start_check(model_dir, infra_rows(model_dir, examples, INFRA_ROWS))
    except Exception as exc:  # noqa: BLE001 - an optimisation only: never fail the evaluation for it
        _log.warning("infra check not started early: %s", exc)
        return False


class _Nothing:
    """A weak-referenceable placeholder for Beam's keep-alive slot."""


def release_shared_models() -> None:
    """Make Beam's ``Shared`` keep-alive hold a placeholder instead of the last model, and collect."""
    shared.Shared().acquire(_Nothing)
    gc.collect()
