"""Typed config -> TFX components -> ``tfx.dsl.Pipeline``. Pure: builds, never runs.

The chain, in order (the component names are what the progress lines and summary show;
a gate is two nodes, see ``components.validation_gate``; resolver nodes only pick the next
component's inputs and are not reported):

    CsvExampleGen -> ImportSchemaGen | SchemaGen -> StatisticsGen -> ExampleValidator
      -> [drift_baseline_resolver] -> DataGate (+ DataGate_stop) -> Transform
      -> [TransformGate (+ TransformGate_stop)] -> [Tuner (with a `tuning:` section)] -> Trainer
      -> baseline_resolver -> Evaluator -> Pusher (components.pusher.ServingPusher)
"""

from __future__ import annotations

import hashlib
from typing import Any

from components import filesystem as fs
from pipelines.build.evaluation import eval_config
from pipelines.config import PipelineConfig
from pipelines.config.features import image_features
from pipelines.data.sources import is_monthly, tfx_pattern
from pipelines.errors import ConfigError

# Generic, config-driven functions; referenced by module path so TFX builds no wheel.
GENERIC_PREPROCESSING_FN = "components.transform.preprocessing_fn"
GENERIC_STATS_OPTIONS_FN = "components.transform.stats_options_updater_fn"
GENERIC_RUN_FN = "components.trainer.run_fn"
GENERIC_TUNER_FN = "components.tuner.tuner_fn"
# The node that stops the run when a gate's verdict did not pass: "<gate id><STOP_SUFFIX>".
STOP_SUFFIX = "_stop"
STATS_BATCH_SIZE = 10_000  # rows per TFDV generator call in StatisticsGen (TFDV's default: 1,000)


def _digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(fs.read_bytes(path))
    return h.hexdigest()[:16]


def staged_schema_path(config: PipelineConfig) -> str | None:
    """Where the curated schema is staged, under a name derived from its content; None without one.

    ImportSchemaGen's cache key holds the schema *path*, not its content: editing the
    curated schema in place would silently keep using the old one. A content-addressed
    copy makes an edit a cache miss (and an unchanged schema a hit).
    """
    if not config.schema_.path:
        return None
    return fs.join(config.pipeline.root, "schemas", _digest([config.schema_.path]), "schema.pbtxt")


def stage_schema(config: PipelineConfig) -> None:
    """Copy the curated schema to ``staged_schema_path`` (before building; a no-op without one)."""
    target = staged_schema_path(config)
    if target is not None and not fs.exists(target):
        fs.copy(config.schema_.path, target)


def code_version(*modules: str) -> str:
    """Content digest of the generic component modules: TFX keys its cache on module_file content
    only, and these are referenced by module path, so the digest goes into custom_config."""
    import importlib.util

    paths = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ConfigError(f"cannot find module {name!r}", hint="is it importable from the project root?")
        paths.append(spec.origin)
    return _digest(paths)


def component_nodes(config: PipelineConfig) -> dict[str, list[str]]:
    """Each reported component and the pipeline node ids it is made of, in run order, without TFX.

    A gate is its decision node and its stop node; resolver nodes belong to no component.
    The progress lines and the summary report these components, skipped ones too.
    ``build_pipeline`` checks the pipeline it builds against this list.

    Example:
        >>> component_nodes(config)["DataGate"]
        ['DataGate', 'DataGate_stop']
    """
    gates = ["DataGate", *(["TransformGate"] if config.validation.post_transform else [])]
    names = [
        "CsvExampleGen",
        "ImportSchemaGen" if config.schema_.path else "SchemaGen",
        "StatisticsGen",
        "ExampleValidator",
        "DataGate",
        "Transform",
        *gates[1:],
        *(["Tuner"] if config.tuning else []),
        "Trainer",
        "Evaluator",
        "Pusher",
    ]
    return {name: [name, name + STOP_SUFFIX] if name in gates else [name] for name in names}


def stop_nodes(config: PipelineConfig) -> list[str]:
    """The nodes that fail only to stop a run when a gate's verdict did not pass."""
    return [node for nodes in component_nodes(config).values() for node in nodes if node.endswith(STOP_SUFFIX)]


def component_names(config: PipelineConfig) -> list[str]:
    """The reported components in run order (the keys of :func:`component_nodes`)."""
    return list(component_nodes(config))


def gate_parameters(config: PipelineConfig, gate: str) -> dict[str, Any]:
    """The typed parameters of the ``gate`` ("data" or "transform") ValidationGate.

    Drift and skew bounds only for the data gate; optional parameters left out when unset.
    See :func:`components.gate.policy_from_parameters` for their meaning.
    """
    v, label = config.validation, config.label
    params: dict[str, Any] = {
        "gate": gate,
        "block_on": v.block_on,
        "allow": {f: sorted(v.allowed_kinds(f)) for f in sorted(v.allow)},
        "label": label.column,
        "task": label.task,
        "classes": label.class_names or None,
        "positive": None if label.positive is None else str(label.positive),
        "schema_path": config.schema_.path,
    }
    if gate == "data":
        params.update(
            image_features=image_features(config.features) or None,
            drift_categorical_threshold=float(v.drift.categorical_threshold),
            drift_numeric_threshold=float(v.drift.numeric_threshold),
            drift_features={f: float(b) for f, b in sorted(v.drift.features.items())},
        )
        if v.skew.serving_data:
            params.update(skew_threshold=float(v.skew.threshold), skew_data=fs.join(v.skew.serving_data, "*.csv"))
    return {k: p for k, p in params.items() if p is not None}


def statistics_options() -> Any:
    """StatisticsGen's TFDV options: TFDV's generators and settings, run on batches of
    ``STATS_BATCH_SIZE`` rows instead of 1,000 (fewer calls per row; ``benchmarks/results/floors.md``)."""
    import tensorflow_data_validation as tfdv

    return tfdv.StatsOptions(desired_batch_size=STATS_BATCH_SIZE)


def build_components(config: PipelineConfig, until: str | None = None, engine: str = "local") -> list[Any]:
    """The TFX components for ``config``, wired in order; ``until='validate'`` stops after the data gate.

    ``engine`` chooses how baselines are resolved (``pipelines.build.baseline``).
    """
    from tfx.components.example_gen.component import FileBasedExampleGen
    from tfx.dsl.components.base.executor_spec import BeamExecutorSpec

    from components.evaluator import Executor as EvaluatorExecutor
    from components.gcs_fileio import register as register_gcs
    from components.local_executors import CsvExampleGenExecutor as CsvExecutor
    from components.local_executors import StatisticsGenExecutor, TransformExecutor
    from components.pusher import ServingPusher
    from components.validation_gate import StopIfBlocked, ValidationGate
    from pipelines.build.baseline import drift_baseline as drift_resolver
    from pipelines.build.baseline import model_baseline
    from pipelines.build.tfx_api import tfx

    output_config = tfx.proto.Output(
        split_config=tfx.proto.SplitConfig(
            splits=[
                tfx.proto.SplitConfig.Split(name="train", hash_buckets=config.data.split.train),
                tfx.proto.SplitConfig.Split(name="eval", hash_buckets=config.data.split.eval),
            ]
        )
    )
    register_gcs()  # TFX's fileio reaches gs:// through the client the rest of the code uses
    # A monthly pattern ({YYYY}-{MM}, no {DD}) or rolling spans name the newest span folder(s) (pipelines.data.sources).
    pattern = tfx_pattern(config.data.source, config.data.pattern, config.data.rolling_spans)
    input_config = tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single_split", pattern=pattern)])
    # TFX's CsvExampleGen with a reader for real-world CSV (BOM, NA tokens): components/csv_example_gen.py;
    # with image features, components/image_example_gen.py also reads each row's image files.
    images = image_features(config.features)
    image_gen: dict[str, Any] = {}
    if images:
        from components.image_example_gen import custom_config as image_config
        from components.local_executors import ImageExampleGenExecutor as ImageExecutor

        image_gen = {"custom_executor_spec": BeamExecutorSpec(ImageExecutor), "custom_config": image_config([*images])}
    span_store = {} if images else _span_store(config)  # rolling months: each one encoded once
    example_gen = FileBasedExampleGen(
        input_base=config.data.source,
        input_config=input_config,
        output_config=output_config,
        **({"custom_executor_spec": BeamExecutorSpec(CsvExecutor)} | image_gen | span_store),
    ).with_id("CsvExampleGen")

    statistics_gen = tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"], stats_options=statistics_options()
    )
    # Each Beam executor builds no tfx_ephemeral sdist of TFX on the DirectRunner (components/local_beam.py).
    statistics_gen.executor_spec = BeamExecutorSpec(StatisticsGenExecutor)
    if span_store:  # profiles only the months this run's ExampleGen encoded (components/span_statistics.py)
        from components.span_statistics import Executor as SpanStatisticsExecutor

        statistics_gen.executor_spec = BeamExecutorSpec(SpanStatisticsExecutor)
    if config.schema_.path:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=staged_schema_path(config))
    else:
        schema_gen = tfx.components.SchemaGen(
            statistics=statistics_gen.outputs["statistics"], infer_feature_shape=False
        )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    gate_inputs: dict[str, Any] = {}
    validation: list[Any] = []
    if images:  # the gate reads ExampleGen's image report (components/image_checks.py)
        gate_inputs["examples"] = example_gen.outputs["examples"]
    if config.validation.drift.enabled:
        drift_baseline = drift_resolver(engine, statistics_gen)
        gate_inputs["baseline_statistics"] = drift_baseline.outputs["statistics"]
        validation.append(drift_baseline)
    data_gate = ValidationGate(
        anomalies=example_validator.outputs["anomalies"],
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
        **gate_inputs,
        **gate_parameters(config, "data"),
    ).with_id("DataGate")
    data_stop = StopIfBlocked(verdict=data_gate.outputs["verdict"]).with_id("DataGate" + STOP_SUFFIX)
    validation += [data_gate, data_stop]
    ingest = [example_gen, schema_gen, statistics_gen, example_validator, *validation]
    if until == "validate":
        return ingest

    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=config.transform.preprocessing_fn or GENERIC_PREPROCESSING_FN,
        # Post-transform statistics feed only the post-transform gate; pre-transform ones would
        # repeat StatisticsGen's, so they cover the label only (components.transform).
        disable_statistics=not config.validation.post_transform,
        stats_options_updater_fn=GENERIC_STATS_OPTIONS_FN,
        # No transformed copy of every row: the Tuner and Trainer apply the Transform graph in
        # their tf.data input (components.trainer._dataset), as serving does.
        materialize=False,
        custom_config={
            **config.transform_spec(),
            "code_version": code_version(
                "components.transform", "components.spec", *_user_module(config.transform.preprocessing_fn)
            ),
        },
    )
    transform.executor_spec = BeamExecutorSpec(TransformExecutor)  # no sdist on the DirectRunner
    # Bad data never reaches Transform; an ordering edge only, so a rerun gate is no cache miss here.
    transform.add_upstream_node(data_stop)
    after_transform: list[Any] = []
    if config.validation.post_transform:
        transform_gate = ValidationGate(
            anomalies=transform.outputs["post_transform_anomalies"],
            **gate_parameters(config, "transform"),
        ).with_id("TransformGate")
        transform_stop = StopIfBlocked(verdict=transform_gate.outputs["verdict"]).with_id("TransformGate" + STOP_SUFFIX)
        after_transform += [transform_gate, transform_stop]
    tuning = _tuner(config, example_gen.outputs["examples"], transform, schema_gen) if config.tuning else None
    trainer = tfx.components.Trainer(
        hyperparameters=tuning.outputs["best_hyperparameters"] if tuning else None,
        run_fn=config.trainer.run_fn or GENERIC_RUN_FN,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.trainer.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.trainer.eval_steps),
        custom_config={
            **config.trainer_spec(),
            "code_version": code_version(
                "components.trainer",
                "components.spec",
                "components.hyperparameters",
                *_user_module(config.trainer.run_fn),
            ),
        },
    )
    for node in after_transform:
        (tuning or trainer).add_upstream_node(node)
    if tuning:
        after_transform.append(tuning)
    baseline = model_baseline(engine, trainer)
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(config),
    )
    evaluator.executor_spec = BeamExecutorSpec(EvaluatorExecutor)  # drops a self-baseline (components/evaluator.py)
    # Replaces tfx.components.Pusher: infra validation without Docker, warm-up requests,
    # an atomic publish, models.config, and pruning (components/pusher.py).
    pusher = ServingPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        examples=example_gen.outputs["examples"],
        model_evaluation=evaluator.outputs["evaluation"],
        serving_dir=config.push.serving_dir,
        model_name=config.model_name,
        keep_versions=config.push.keep_versions,
        infra_validation=config.push.infra_validation,
        warmup_requests=config.push.warmup_requests,
    ).with_id("Pusher")
    return [*ingest, transform, *after_transform, trainer, baseline, evaluator, pusher]


def _tuner(config: PipelineConfig, examples: Any, transform: Any, schema_gen: Any) -> Any:
    """TFX's Tuner over the Trainer's model and data (``components.tuner``); its best settings feed the Trainer."""
    from components.tuner import ConfigTuner
    from pipelines.build.tfx_api import tfx

    tuning = config.tuning
    return ConfigTuner(
        tuner_fn=GENERIC_TUNER_FN,
        examples=examples,
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=tuning.steps_per_trial),
        eval_args=tfx.proto.EvalArgs(num_steps=config.trainer.eval_steps),
        custom_config={
            **config.trainer_spec(),
            "tuning": tuning.tuner_spec(),
            "code_version": code_version(
                "components.tuner", "components.trainer", "components.hyperparameters", "components.spec"
            ),
        },
    ).with_id("Tuner")


def _span_store(config: PipelineConfig) -> dict[str, Any]:
    """ExampleGen's executor and settings for the span store (``components.span_store``) with
    ``data.rolling_spans`` over month folders; {} otherwise."""
    if not (config.data.rolling_spans and is_monthly(config.data.pattern)):
        return {}
    from tfx.dsl.components.base.executor_spec import BeamExecutorSpec

    from components import span_store

    return {
        "custom_executor_spec": BeamExecutorSpec(span_store.Executor),
        "custom_config": span_store.custom_config(fs.join(config.pipeline.root, "span_store"), config.data.pattern),
    }


def _user_module(function_path: str | None) -> list[str]:
    return [function_path.rsplit(".", 1)[0]] if function_path else []


def build_pipeline(config: PipelineConfig, until: str | None = None, engine: str = "local") -> Any:
    """The ``tfx.dsl.Pipeline`` for ``config`` (SQLite ML Metadata, Beam args from ``beam``).

    Stage the curated schema first (:func:`stage_schema`): ImportSchemaGen reads the staged copy.

    Raises:
        RuntimeError: the built nodes disagree with :func:`component_nodes` (a bug in this module).
    """
    from pipelines.build.tfx_api import tfx

    components = build_components(config, until, engine)
    built = [c.id for c in components if not isinstance(c, tfx.dsl.Resolver)]
    planned = [node for nodes in component_nodes(config).values() for node in nodes]
    if built != planned[: len(built)]:
        raise RuntimeError(f"pipelines.build: component_nodes() lists {planned}, build_components() made {built}")
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline.name,
        pipeline_root=config.pipeline.root,
        components=components,
        enable_cache=config.pipeline.enable_cache,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
        beam_pipeline_args=config.beam.args(),
    )
