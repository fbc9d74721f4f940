"""The generic ``tuner_fn`` and TFX's Tuner with an executor that keeps every trial's record.

``tuner_fn`` searches the config's ``tuning`` space (``custom_config["tuning"]``) with
keras-tuner over the model the Trainer builds (``components.trainer.build_model``): each trial
is the spec with that trial's settings applied (``components.hyperparameters.apply``), trained
``steps_per_trial`` steps on the transformed train split and scored on the eval split. Before
the search, the config's own settings are trained the same way (the ``baseline`` trial), so the
record shows what tuning bought.

:class:`Executor` runs TFX's search, then writes to the Tuner's outputs:

- ``best_hyperparameters/best_hyperparameters.txt``: ``{"space": [], "values": {name: value}}``, the
  chosen settings (the best trial's, or the config's own when no trial beat the baseline), which
  the Trainer reads as ``fn_args.hyperparameters``;
- ``tuner_results/tuner_results.json``: TFX's own record (best trials, their scores and values);
- ``tuner_results/trials.json`` (:data:`TRIALS_FILE`): every trial with its settings, objective
  value, status and seconds, the baseline and the chosen settings; ``pipelines.results`` reads it.

keras-tuner's own trial files go to the executor's temporary directory, which TFX deletes.
Trials run one after another: the TFX Tuner's ``tune_args.num_parallel_trials`` is for
distributed tuning (the Cloud extension), and on one machine TensorFlow already uses every core.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import components  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

# isort: split
import keras_tuner as kt
import tensorflow as tf
import tensorflow_transform as tft
from keras_tuner.engine import base_tuner
from tfx.components.tuner import executor as tfx_tuner
from tfx.components.tuner.component import Tuner, TunerFnResult
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils, standard_component_specs

from components import filesystem as fs
from components import hyperparameters
from components.hyperparameters import TRIALS_FILE
from components.spec import FeatureSpec
from components.trainer import _dataset, build_model, cache_rows, label_moments

__all__ = ["TRIALS_FILE", "ConfigTuner", "Executor", "tuner_fn"]

BEST_FILE = "best_hyperparameters.txt"  # the file name TFX's own executor uses
HYPERBAND_EPOCHS = 3  # hyperband: a full trial is 3 epochs of steps_per_trial / 3 steps


def _objective_metric(name: str, task: str) -> list[Any]:
    """The Keras metric compiled in for the objective (none for ``loss``)."""
    if name == "auc":
        return [tf.keras.metrics.AUC(name="auc")]
    if name == "accuracy":
        cls = tf.keras.metrics.SparseCategoricalAccuracy if task == "multiclass" else tf.keras.metrics.BinaryAccuracy
        return [cls(name="accuracy")]
    if name == "mae":
        return [tf.keras.metrics.MeanAbsoluteError(name="mae")]
    if name == "rmse":
        return [tf.keras.metrics.RootMeanSquaredError(name="rmse")]
    return []


def trial_values(hp: kt.HyperParameters, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Declare ``space`` on ``hp`` and return this trial's ``{name: value}`` (lists decoded)."""
    out = {}
    for name, rng in space.items():
        kind, values = rng["kind"], rng["values"]
        if kind == "choice":
            out[name] = hyperparameters.decode(hp.Choice(name, [hyperparameters.encode(v) for v in values]))
        elif kind == "int":
            out[name] = hp.Int(name, int(values[0]), int(values[1]))
        else:
            out[name] = hp.Float(name, float(values[0]), float(values[1]), sampling="log" if kind == "log" else None)
    return out


def _configured(spec: FeatureSpec, names: list[str]) -> dict[str, Any]:
    """The config's own value of each tuned setting (the baseline's settings)."""
    out: dict[str, Any] = {}
    for name in names:
        section, *rest = name.split(".")
        if section == "features":
            value = spec.features[rest[0]].get(rest[1])
            out[name] = spec.model.get(rest[1]) if value is None else value  # a feature's default is the model's
        else:
            out[name] = getattr(spec, section).get(rest[0])
    return out


class SpaceSearch(base_tuner.BaseTuner):
    """keras-tuner's search loop (an oracle proposes, the trial reports its objective) over our training.

    keras-tuner's Keras ``Tuner`` expects Keras 3 models; the Trainer's model is tf.keras, so each
    trial trains it here (``train``), and the base tuner keeps the oracle's bookkeeping. Hyperband's
    later rounds retrain from scratch for their ``tuner/epochs`` (no checkpoint carried over).
    Before searching, the config's own settings are trained the same way: the ``baseline``.
    """

    def __init__(
        self, oracle: Any, space: dict[str, Any], train: Any, steps: int, baseline: dict[str, Any], directory: str
    ) -> None:
        super().__init__(oracle=oracle, directory=directory, project_name="tuning", overwrite=True)
        self.space, self.train, self.steps_per_epoch = space, train, steps
        self.seconds: dict[str, float] = {}
        self.steps: dict[str, int] = {}
        self.baseline: dict[str, Any] = {"settings": baseline, "score": None, "seconds": 0.0, "steps": 0}

    def run_trial(self, trial: Any, **fit_kwargs: Any) -> dict[str, float]:
        start = time.monotonic()
        try:
            values = trial_values(trial.hyperparameters, self.space)
            epochs = int(trial.hyperparameters.values.get("tuner/epochs", 1))
            self.steps[trial.trial_id] = epochs * self.steps_per_epoch
            return {self.oracle.objective.name: self.train(values, epochs)}
        finally:
            self.seconds[trial.trial_id] = time.monotonic() - start

    def search(self, **fit_kwargs: Any) -> None:
        start = time.monotonic()
        epochs = HYPERBAND_EPOCHS if isinstance(self.oracle, kt.oracles.HyperbandOracle) else 1
        score = self.train({}, epochs)
        self.baseline.update(score=score, seconds=time.monotonic() - start, steps=epochs * self.steps_per_epoch)
        super().search(**fit_kwargs)


def tuner_fn(fn_args: Any) -> TunerFnResult:
    """TFX Tuner entry point (``Tuner(tuner_fn='components.tuner.tuner_fn')``)."""
    tuning = fn_args.custom_config["tuning"]
    spec = FeatureSpec.from_config(fn_args.custom_config)
    tft_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    datasets: dict[int, tuple[tf.data.Dataset, tf.data.Dataset]] = {}

    def data(size: int) -> tuple[tf.data.Dataset, tf.data.Dataset]:
        if size not in datasets:  # one pair per (tuned) batch size; a trial draws at most train_steps batches
            cache, accessor = cache_rows(spec), fn_args.data_accessor
            train_rows, eval_rows = int(fn_args.train_steps) * size, int(fn_args.eval_steps) * size
            datasets[size] = (
                _dataset(fn_args.train_files, accessor, tft_output, spec.label, size, cache, train_rows),
                _dataset(fn_args.eval_files, accessor, tft_output, spec.label, size, cache, eval_rows),
            )
        return datasets[size]

    moments = label_moments(data(int(spec.trainer["batch_size"]))[0]) if spec.task == "regression" else (0.0, 1.0)
    hyperband = tuning["algorithm"] == "hyperband"
    steps = max(1, math.ceil(int(fn_args.train_steps) / HYPERBAND_EPOCHS)) if hyperband else int(fn_args.train_steps)
    objective = kt.Objective(f"val_{tuning['objective']}", direction=tuning["direction"])

    def train(values: dict[str, Any], epochs: int) -> float:
        """Train the Trainer's model with ``values`` applied; the objective on the eval split."""
        tf.keras.utils.set_random_seed(tuning["seed"])  # trials differ by their settings only
        trial_spec = hyperparameters.apply(spec, values)
        model = build_model(trial_spec, tft_output, moments, _objective_metric(tuning["objective"], spec.task))
        model.train_step = tf.autograph.experimental.do_not_convert(model.train_step)
        model.test_step = tf.autograph.experimental.do_not_convert(model.test_step)
        train_data, eval_data = data(int(trial_spec.trainer["batch_size"]))
        history = model.fit(
            train_data,
            steps_per_epoch=steps,
            epochs=epochs,
            validation_data=eval_data,
            validation_steps=int(fn_args.eval_steps),
            verbose=0,
        )
        return float(history.history[objective.name][-1])

    declared = kt.HyperParameters()
    trial_values(declared, tuning["space"])
    # keras-tuner reads seed 0 as "no seed" (`seed or random.randint(...)`): shift it, so every seed is one.
    common = {"objective": objective, "seed": tuning["seed"] + 1, "hyperparameters": declared}
    if hyperband:
        oracle = kt.oracles.HyperbandOracle(max_epochs=HYPERBAND_EPOCHS, factor=3, **common)
    elif tuning["algorithm"] == "bayesian":
        oracle = kt.oracles.BayesianOptimizationOracle(max_trials=tuning["max_trials"], **common)
    else:
        oracle = kt.oracles.RandomSearchOracle(max_trials=tuning["max_trials"], **common)
    baseline = _configured(spec, list(tuning["space"]))
    tuner = SpaceSearch(oracle, tuning["space"], train, steps, baseline, directory=fn_args.working_dir)
    return TunerFnResult(tuner=tuner, fit_kwargs={"verbose": 0})  # keras-tuner prints nothing


def _finite(score: Any) -> float | None:
    return None if score is None or math.isnan(float(score)) else float(score)


def trial_records(tuner: SpaceSearch) -> dict[str, Any]:
    """Every trial (settings, objective value, status, seconds), the baseline and the chosen settings.

    The chosen settings are the best trial's; the baseline's (the config's own) when no trial beat it.
    """
    direction = tuner.oracle.objective.direction
    trials = [
        {
            "trial": trial_id,
            "settings": {
                k: hyperparameters.decode(v)
                for k, v in trial.hyperparameters.values.items()
                if not k.startswith("tuner/")
            },
            "objective": _finite(trial.score),
            "status": str(trial.status).lower(),
            "steps": tuner.steps.get(trial_id, 0),  # hyperband: its rounds train 1 or 3 epochs
            "seconds": round(tuner.seconds.get(trial_id, 0.0), 1),
        }
        for trial_id, trial in sorted(tuner.oracle.trials.items())
    ]
    baseline = {
        "settings": tuner.baseline["settings"],
        "objective": _finite(tuner.baseline["score"]),
        "steps": tuner.baseline["steps"],
        "seconds": round(tuner.baseline["seconds"], 1),
    }
    candidates = [("baseline", baseline["objective"], baseline["settings"])]
    candidates += [(t["trial"], t["objective"], t["settings"]) for t in trials]
    scored = [c for c in candidates if c[1] is not None]
    sign = 1.0 if direction == "max" else -1.0
    # max() keeps the first of equals: a trial must beat the config's own settings to replace them.
    source, _, chosen = max(scored, key=lambda c: sign * c[1]) if scored else candidates[0]
    return {
        "objective": tuner.oracle.objective.name.removeprefix("val_"),
        "direction": direction,
        "baseline": baseline,
        "trials": trials,
        "chosen": {"trial": source, "settings": dict(chosen)},
    }


class Executor(tfx_tuner.Executor):
    """TFX's Tuner executor, writing the chosen settings (decoded) and :data:`TRIALS_FILE` as well."""

    def Do(
        self, input_dict: dict[str, list[Any]], output_dict: dict[str, list[Any]], exec_properties: dict[str, Any]
    ) -> None:
        if tfx_tuner.get_tune_args(exec_properties):
            raise ValueError("tune_args (distributed tuning) is not supported by this Tuner")
        tuner = tfx_tuner.search(input_dict, exec_properties, self._get_tmp_dir(), print_tuning_summary=False)
        tfx_tuner.write_best_hyperparameters(tuner, output_dict)
        record = trial_records(tuner)
        best_dir = artifact_utils.get_single_uri(output_dict[standard_component_specs.BEST_HYPERPARAMETERS_KEY])
        fs.write_text(fs.join(best_dir, BEST_FILE), json.dumps({"space": [], "values": record["chosen"]["settings"]}))
        results_dir = artifact_utils.get_single_uri(output_dict[standard_component_specs.TUNER_RESULTS_KEY])
        fs.write_text(fs.join(results_dir, TRIALS_FILE), json.dumps(record, indent=1))


class ConfigTuner(Tuner):
    """TFX's Tuner component, run by :class:`Executor`."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
