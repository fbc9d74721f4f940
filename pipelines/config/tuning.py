"""The ``tuning`` section: a search space over model, trainer and feature settings, run by TFX's Tuner.

Each tunable setting is written where it lives in the config, under ``tuning.space``, as one
range: ``{choice: [...]}``, ``{int: [low, high]}``, ``{float: [low, high]}`` or
``{log: [low, high]}`` (log-uniform). Only settings the model builder reads can be tuned: the
Tuner runs after Transform, so a setting Transform applies (a hash bucket count, a vocabulary
size) would need a Transform per trial.

Example:
    >>> t = TuningSection.model_validate({"space": {"trainer": {"learning_rate": {"log": [1e-4, 1e-2]}}}})
    >>> t.flat_space()["trainer.learning_rate"].kind, t.objective.metric, t.objective.direction
    ('log', 'loss', 'min')
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from pipelines.config.base import Strict as _Strict

__all__ = ["OBJECTIVES", "Objective", "Range", "TuningSection", "TuningSpace"]

# Objective metric -> (direction, tasks): what Keras computes on the eval split after each trial.
OBJECTIVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "loss": ("min", ("binary", "multiclass", "regression")),
    "auc": ("max", ("binary",)),
    "accuracy": ("max", ("binary", "multiclass")),
    "mae": ("min", ("regression",)),
    "rmse": ("min", ("regression",)),
}
_KINDS = ("choice", "int", "float", "log")


class Range(_Strict):
    """One setting's candidates: exactly one of ``choice``, ``int``, ``float`` or ``log``."""

    choice: list[Any] | None = Field(None, description="Candidate values, e.g. [[64, 32], [128, 64]].")
    int_: list[int] | None = Field(None, alias="int", description="[low, high], integers, both included.")
    float_: list[float] | None = Field(None, alias="float", description="[low, high], uniform.")
    log: list[float] | None = Field(None, description="[low, high], log-uniform (both > 0), e.g. a learning rate.")

    @model_validator(mode="after")
    def _one_kind(self) -> Range:
        given = [k for k in _KINDS if self.values_of(k) is not None]
        if len(given) != 1:
            raise ValueError("write one of choice: [...], int: [low, high], float: [low, high], log: [low, high]")
        kind, values = given[0], self.values_of(given[0])
        if kind == "choice":
            if not values:
                raise ValueError("choice is empty; list at least one value")
            if len({repr(v) for v in values}) != len(values):
                raise ValueError(f"choice repeats a value: {values}")
            return self
        if len(values) != 2:
            raise ValueError(f"{kind} takes [low, high], got {values}")
        low, high = values
        if low > high:
            raise ValueError(f"low {low} > high {high}; write [low, high]")
        if kind == "log" and low <= 0:
            raise ValueError(f"log needs low > 0, got {low}")
        return self

    def values_of(self, kind: str) -> list[Any] | None:
        return {"choice": self.choice, "int": self.int_, "float": self.float_, "log": self.log}[kind]

    @property
    def kind(self) -> str:
        return next(k for k in _KINDS if self.values_of(k) is not None)

    @property
    def values(self) -> list[Any]:
        """The choice's values, or [low, high]."""
        return list(self.values_of(self.kind) or [])


def _range(value: Any) -> Range:
    """A setting's range, checked here so that its errors name the setting (``tuning.space.trainer.learning_rate``)."""
    if isinstance(value, Range):
        return value
    if not isinstance(value, dict):
        raise ValueError("must be a range: {choice: [...]}, {int: [lo, hi]}, {float: [lo, hi]} or {log: [lo, hi]}")
    try:
        return Range.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["type"] == "extra_forbidden":
            raise ValueError(f"unknown key {err['loc'][-1]!r}; write one of {', '.join(_KINDS)}") from exc
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ValueError(f"{where}: {msg}" if where else msg) from exc


# A range, validated by `_range`; typed Any so the README documents each setting, not each range form.
RangeSetting = Annotated[Any, BeforeValidator(_range)]


class ModelSpace(_Strict):
    type: RangeSetting | None = None
    hidden_units: RangeSetting | None = Field(None, description="A choice of lists, e.g. {choice: [[64, 32], [128]]}.")
    embedding_dim: RangeSetting | None = None
    dropout: RangeSetting | None = None


class TrainerSpace(_Strict):
    learning_rate: RangeSetting | None = None
    batch_size: RangeSetting | None = None
    optimizer: RangeSetting | None = None


class FeatureSpace(_Strict):
    embedding_dim: RangeSetting | None = Field(None, description="This feature's embedding size.")


class TuningSpace(_Strict):
    model: ModelSpace = Field(default_factory=ModelSpace)
    trainer: TrainerSpace = Field(default_factory=TrainerSpace)
    features: dict[str, FeatureSpace] = Field(default_factory=dict, description="Per feature: embedding_dim.")


class Objective(_Strict):
    metric: Literal[tuple(OBJECTIVES)] = Field(  # type: ignore[valid-type]
        "loss", description="Eval-split metric after each trial: loss, auc, accuracy (classification), mae, rmse."
    )
    direction: Literal["max", "min"] = Field("min", description="max or min; default: the metric's.")

    @model_validator(mode="before")
    @classmethod
    def _direction(cls, data: Any) -> Any:
        # The default direction is the metric's, filled in before validation so readers see the effective one.
        if not isinstance(data, dict) or data.get("metric", "loss") not in OBJECTIVES:
            return data
        natural = OBJECTIVES[data.get("metric", "loss")][0]
        if data.get("direction") is None:
            return {**data, "direction": natural}
        if data["direction"] != natural:
            better = "higher" if natural == "max" else "lower"
            raise ValueError(f"{data.get('metric', 'loss')} is better when {better}; set direction: {natural}")
        return data


class TuningSection(_Strict):
    space: TuningSpace = Field(description="Settings to tune, where they live: model.*, trainer.*, features.<name>.*.")
    algorithm: Literal["random", "bayesian", "hyperband"] = Field(
        "random", description="keras-tuner search: random, bayesian (Gaussian process) or hyperband."
    )
    max_trials: int = Field(4, ge=1, le=200, description="Trials searched (hyperband: its budget in trials).")
    objective: Objective = Field(default_factory=Objective, description="The metric trials compete on.")
    steps_per_trial: int = Field(200, ge=1, description="Training steps per trial (the Trainer keeps train_steps).")
    seed: int = Field(0, description="Search seed: the same space and data give the same trials.")

    @field_validator("space")
    @classmethod
    def _not_empty(cls, v: TuningSpace) -> TuningSpace:
        if not _flat(v):
            raise ValueError("names no setting; add e.g. trainer: {learning_rate: {log: [1e-4, 1e-2]}}")
        return v

    def flat_space(self) -> dict[str, Range]:
        """``{"trainer.learning_rate": Range, "features.city.embedding_dim": Range, ...}``, in a fixed order."""
        return _flat(self.space)

    def tuner_spec(self) -> dict[str, Any]:
        """The plain-dict spec for ``components.tuner.tuner_fn`` (TFX custom_config)."""
        return {
            "space": {k: {"kind": r.kind, "values": r.values} for k, r in self.flat_space().items()},
            "algorithm": self.algorithm,
            "max_trials": self.max_trials,
            "objective": self.objective.metric,
            "direction": self.objective.direction,
            "seed": self.seed,
        }


def _flat(space: TuningSpace) -> dict[str, Range]:
    out: dict[str, Range] = {}
    for section in ("model", "trainer"):
        for name, r in getattr(space, section):
            if r is not None:
                out[f"{section}.{name}"] = r
    for feature, fspace in sorted(space.features.items()):
        for name, r in fspace:
            if r is not None:
                out[f"features.{feature}.{name}"] = r
    return out
