"""The config's typed, frozen models: one class per YAML section, defaults and field rules.

Cheap to import (pydantic only), so a bad config is rejected long before TensorFlow loads.
Built only through ``pipelines.config.load_config``.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from components import filesystem as fs
from components import metric_names
from pipelines.config.base import Strict as _Strict
from pipelines.config.base import abspath as _abspath
from pipelines.config.dataflow import DataflowSection, require_dataflow
from pipelines.config.evaluation import (  # noqa: F401 - re-exported
    METRICS,
    TASK_METRICS,
    ChangeThreshold,
    EvaluationSection,
    MetricName,
    Threshold,
    default_thresholds,
)
from pipelines.config.features import TRANSFORMS, Feature  # noqa: F401 - re-exported
from pipelines.config.gcp import GcpSection, local_metadata_path
from pipelines.config.monitoring import MonitoringSection
from pipelines.config.schedule import RunnerName, ScheduleSection
from pipelines.config.serving import ServingSection
from pipelines.config.source import ConfigSource
from pipelines.config.tuning import TuningSection
from pipelines.config.validation import ANOMALY_ALIASES, ValidationSection  # noqa: F401 - re-exported
from pipelines.config.vertex import VertexSection


class PipelineSection(_Strict):
    name: str = Field(description="Pipeline name; also the ML Metadata pipeline context.")
    root: str = Field(description="Pipeline root (local or gs://bucket/prefix): artifacts and metadata live here.")
    metadata_path: str | None = Field(
        None,
        description="SQLite ML Metadata file (always local); default <root>/metadata.sqlite, or for a gs:// root "
        "~/.cache/declarative-tfx/metadata/<bucket>/<prefix>-<hash>/metadata.sqlite.",
    )
    enable_cache: bool = Field(
        True, description="Reuse a component's outputs when its inputs and settings are unchanged."
    )

    _abs = field_validator("root", "metadata_path")(_abspath)

    @field_validator("metadata_path")
    @classmethod
    def _local_metadata(cls, v: str | None) -> str | None:
        if v is not None and fs.is_remote(v):
            raise ValueError("ML Metadata is a SQLite file and must be local; remove it to use the default")
        return v

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,62}", v):
            raise ValueError("must start with a letter and hold only letters, digits, '_' or '-' (at most 63)")
        return v


class SplitSection(_Strict):
    train: int = Field(4, ge=1, description="Hash buckets for the train split.")
    eval: int = Field(1, ge=1, description="Hash buckets for the eval split.")


class DataSection(_Strict):
    source: str = Field(description="Directory of CSV files: a local path or gs://bucket/prefix.")
    pattern: str = Field(
        "*.csv",
        description="Files to read, relative to data.source. May name span folders with TFX's {SPAN} "
        "(or {YYYY}, {MM}, {DD}), e.g. 'span-{SPAN}/*.csv': the latest span is read.",
    )
    rolling_spans: int | None = Field(None, ge=1, description="With {SPAN}: read the latest N spans instead of one.")
    split: SplitSection = Field(default_factory=SplitSection, description="Train/eval split as hash-bucket ratio.")

    _abs = field_validator("source")(_abspath)

    @field_validator("pattern")
    @classmethod
    def _pattern_ok(cls, v: str) -> str:
        if not v or v.startswith("/") or ".." in v.split("/"):
            raise ValueError("must be a glob relative to data.source, such as '*.csv' or 'span-{SPAN}/*.csv'")
        return v

    @property
    def has_spans(self) -> bool:
        return any(t in self.pattern for t in ("{SPAN}", "{YYYY}", "{MM}", "{DD}"))

    @model_validator(mode="after")
    def _rolling_needs_spans(self) -> DataSection:
        if self.rolling_spans is not None and not self.has_spans:
            raise ValueError("rolling_spans needs a {SPAN} (or {YYYY}{MM}{DD}) placeholder in data.pattern")
        return self


class SchemaSection(_Strict):
    path: str | None = Field(None, description="Curated TFDV schema (schema.pbtxt); none -> SchemaGen infers one.")

    _abs = field_validator("path")(_abspath)


# The tasks are the metric table's (components.metric_names.TASKS): one list for config, build and reports.
TASKS: tuple[str, ...] = metric_names.TASKS
Task = Literal[TASKS]  # type: ignore[valid-type]


class LabelSection(_Strict):
    column: str = Field(description="CSV column holding the label.")
    task: Task = Field(
        "binary",
        description="binary (0/1, or two strings with `positive`), multiclass (`classes`), or regression (a number).",
    )
    positive: str | int | None = Field(
        None, description="binary only: the label value of the positive class, e.g. 'Yes'; default: labels are 0/1."
    )
    classes: list[str | int] | None = Field(
        None, description="multiclass only: every label value, in the order of the served `scores`."
    )

    @model_validator(mode="after")
    def _task_fields(self) -> LabelSection:
        if self.task == "multiclass":
            if not self.classes or len(self.classes) < 2:
                raise ValueError("task multiclass needs `classes`: the list of label values, e.g. [cat, dog, bird]")
            names = [str(c) for c in self.classes]
            if len(set(names)) != len(names):
                raise ValueError(f"`classes` repeats a value: {names}")
        elif self.classes is not None:
            raise ValueError(f"`classes` is for task multiclass, not {self.task}; remove it")
        if self.positive is not None and self.task != "binary":
            raise ValueError(f"`positive` is for task binary, not {self.task}; remove it")
        return self

    @property
    def class_names(self) -> list[str]:
        """The multiclass classes as strings, in output order; [] for the other tasks."""
        return [str(c) for c in self.classes or []]


class ModelSection(_Strict):
    type: Literal["dnn", "wide_and_deep"] = Field(
        "dnn", description="dnn, or wide_and_deep (linear part on categoricals)."
    )
    hidden_units: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [64, 32], min_length=1)
    embedding_dim: int = Field(8, ge=1, description="Default embedding size for categorical features.")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class TrainerSection(_Strict):
    train_steps: int = Field(ge=1, description="Optimizer steps.")
    eval_steps: int = Field(50, ge=1, description="Validation steps after training.")
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    optimizer: Literal["adam", "sgd", "adagrad", "rmsprop"] = "adam"
    run_fn: str | None = Field(
        None, description="Custom run_fn as 'package.module.function' (replaces the generic one)."
    )

    @field_validator("run_fn")
    @classmethod
    def _fn_path(cls, v: str | None) -> str | None:
        return _check_function_path(v)


class TransformSection(_Strict):
    preprocessing_fn: str | None = Field(
        None, description="Custom preprocessing_fn as 'package.module.function' (replaces the generic one)."
    )

    @field_validator("preprocessing_fn")
    @classmethod
    def _fn_path(cls, v: str | None) -> str | None:
        return _check_function_path(v)


def _check_function_path(v: str | None) -> str | None:
    if v is not None and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", v):
        raise ValueError("must be a dotted path 'package.module.function', importable from the project root")
    return v


class BeamSection(_Strict):
    runner: Literal["DirectRunner", "DataflowRunner"] = Field(
        "DirectRunner", description="Beam runner for the data components (DataflowRunner: --profile dataflow)."
    )
    dataflow: DataflowSection | None = Field(None, description="DataflowRunner settings (config/dataflow.py).")
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(1, ge=0, description="DirectRunner workers; 0 means one per core.")
    extra_args: list[str] = Field(default_factory=list, description="More Beam pipeline options, '--flag=value'.")

    @field_validator("extra_args")
    @classmethod
    def _flags(cls, v: list[str]) -> list[str]:
        for arg in v:
            if not arg.startswith("--"):
                raise ValueError(f"each entry must look like '--option=value', got {arg!r}")
        return v

    @model_validator(mode="after")
    def _dataflow_ok(self) -> BeamSection:
        require_dataflow(self.runner, self.dataflow)
        return self

    def args(self) -> list[str]:
        if self.dataflow is not None:
            return [f"--runner={self.runner}", *self.dataflow.args(), *self.extra_args]
        workers = self.direct_num_workers or (os.cpu_count() or 1)
        return [
            f"--runner={self.runner}",
            f"--direct_running_mode={self.direct_running_mode}",
            f"--direct_num_workers={workers}",
            *self.extra_args,
        ]


class PushSection(_Strict):
    serving_dir: str = Field(description="TF Serving model base: <serving_dir>/<model_name>/<version>/.")
    model_name: str | None = Field(None, description="Served model name; default pipeline.name.")
    keep_versions: int = Field(
        5, ge=1, description="Versions kept under <serving_dir>/<model_name>/; older ones are removed."
    )
    infra_validation: bool = Field(
        True, description="Load and query the candidate in a separate process before pushing."
    )
    warmup_requests: int = Field(10, ge=0, le=1000, description="Eval rows written as TF Serving warm-up requests.")

    _abs = field_validator("serving_dir")(_abspath)

    @field_validator("model_name")
    @classmethod
    def _name_ok(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", v):
            raise ValueError("must hold only letters, digits, '_', '.' or '-'")
        return v


class PipelineConfig(_Strict):
    """The whole, validated pipeline config. Built only through :func:`load_config`."""

    pipeline: PipelineSection
    data: DataSection
    schema_: SchemaSection = Field(default_factory=SchemaSection, alias="schema")
    label: LabelSection
    features: dict[str, Feature] = Field(
        min_length=1, description="Every CSV column but the label, with its transform."
    )
    model: ModelSection = Field(default_factory=ModelSection)
    transform: TransformSection = Field(default_factory=TransformSection)
    trainer: TrainerSection
    tuning: TuningSection | None = Field(None, description="Hyperparameter search by TFX's Tuner before the Trainer.")
    validation: ValidationSection = Field(default_factory=ValidationSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    beam: BeamSection = Field(default_factory=BeamSection)
    push: PushSection
    serving: ServingSection = Field(default_factory=ServingSection)
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)
    gcp: GcpSection = Field(default_factory=GcpSection)
    runner: RunnerName = Field("local", description="Engine: local, or airflow (pipelines.schedule).")
    schedule: ScheduleSection | None = Field(None, description="When a scheduler (Airflow) starts runs.")
    vertex: VertexSection | None = Field(None, description="Vertex AI Pipelines settings (--runner vertex).")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    _origin: ConfigSource = PrivateAttr(default_factory=ConfigSource)

    @field_validator("features", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        # `age: zscore` is short for `age: {transform: zscore}`.
        if isinstance(v, dict):
            return {k: ({"transform": s} if isinstance(s, str) else s) for k, s in v.items()}
        return v

    @model_validator(mode="before")
    @classmethod
    def _task_defaults(cls, data: Any) -> Any:
        # Metrics and thresholds default by task, filled in before validation so every reader
        # sees the effective values and nothing changes the model afterwards. Input that is not
        # well formed is left alone: validation names the key.
        if not isinstance(data, dict):
            return data
        label = _as_dict(data.get("label"))
        ev = _as_dict(data.get("evaluation", {}))
        task = label.get("task", "binary") if label is not None else None
        if ev is None or not isinstance(task, str) or task not in TASK_METRICS:
            return data
        metrics = ev.get("metrics") or TASK_METRICS[task][0]
        thresholds = ev.get("thresholds")
        if thresholds is None:  # the defaults, for the metrics that are computed
            classes = label.get("classes") if task == "multiclass" else None
            n_classes = len(classes) if isinstance(classes, list) and classes else 2
            defaults = default_thresholds(task, n_classes)
            thresholds = {m: t for m, t in defaults.items() if isinstance(metrics, list) and m in metrics}
        return {**data, "evaluation": {**ev, "metrics": metrics, "thresholds": thresholds}}

    @model_validator(mode="after")
    def _keep_origin(self, info: ValidationInfo) -> PipelineConfig:
        # Private state, set once while the model is built: where each key was written.
        self._origin = (info.context or {}).get("origin") or ConfigSource()
        return self

    @property
    def origin(self) -> ConfigSource:
        """Where this config came from (file, key lines, overrides), to locate later problems."""
        return self._origin

    @property
    def model_name(self) -> str:
        return self.push.model_name or self.pipeline.name

    @property
    def metadata_path(self) -> str:
        if self.pipeline.metadata_path:
            return self.pipeline.metadata_path
        if fs.is_remote(self.pipeline.root):  # SQLite needs a local file system
            return local_metadata_path(self.pipeline.root)
        return fs.join(self.pipeline.root, "metadata.sqlite")

    @property
    def used_features(self) -> dict[str, Feature]:
        return {k: f for k, f in self.features.items() if f.transform != "drop"}

    def transform_spec(self) -> dict[str, Any]:
        """The plain-dict spec for the transform (TFX custom_config): label and features only,
        so a trainer setting never changes Transform's inputs and never invalidates its cache."""
        return {
            "label": self.label.column,
            "task": self.label.task,
            "positive": self.label.positive,
            "classes": self.label.classes,
            "features": {k: f.model_dump() for k, f in self.features.items()},
        }

    def trainer_spec(self) -> dict[str, Any]:
        """The plain-dict spec for the trainer: the transform's plus model and training settings."""
        return {
            **self.transform_spec(),
            "model": self.model.model_dump(),
            "trainer": self.trainer.model_dump(exclude={"run_fn"}),
        }


def _as_dict(value: Any) -> dict[str, Any] | None:
    """A raw section as a dict (a model given in Python is dumped); None when it is neither."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return value if isinstance(value, dict) else None
