"""What an Airflow task runs: one node of the pipeline, through TFX's AirflowDagRunner.

The DAG file holds only the task graph (cheap to parse, see ``airflow.py``). When a task runs,
``run_node`` builds the pipeline from the config, turns it into TFX's own Airflow DAG with
``AirflowDagRunner`` (one ``AirflowComponent`` per node, TFX's in-process launcher) and calls
that node's callable with the task's context: the component runs exactly as TFX's Airflow
integration runs it, with a launcher that fixes three things on this stack (TFX 1.16, Airflow 2):

* Artifact names. TFX's legacy driver names every output ``<output key>:<run id>``, and ML
  Metadata allows one artifact per (type, name): the second ValidationGate's ``verdict``
  (TransformGate after DataGate) and every retry of a task that had started writing its
  outputs (tensorflow/tfx#1754, #4226, #2805 for the Evaluator) fail with ``AlreadyExistsError``.
  Here the name holds the node and the execution id, so retries are safe.
* Retries. TFX's legacy ``search_artifacts`` takes a node's *first* execution in the run; after
  a retry that is the failed attempt. Here inputs come from the node's last finished execution.
* The record. The legacy launcher writes ``run``/``component_run`` contexts and leaves a failed
  execution RUNNING; this one also files each execution and its outputs under the ``pipeline_run``
  (named after the Airflow run id) and ``node`` contexts LocalDagRunner writes, marks a failure
  FAILED, and stamps the run ``engine: airflow``, so ``pipelines.results`` reads an Airflow run
  exactly like a local one.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from pipelines.config import PipelineConfig, load_config

__all__ = ["ENGINE_PROPERTY", "build_tfx_dag", "run_node", "task_graph"]

# The pipeline_run context's custom property naming the engine that made the run.
ENGINE_PROPERTY = "engine"
_built: dict[str, Any] = {}
_attempt: dict[str, bool] = {"final": True}


def run_node(config_path: str, overrides: list[str], node_id: str, **context: Any) -> None:
    """Run pipeline node ``node_id`` of the config's pipeline for the Airflow task ``context``.

    Raises:
        ConfigError: the config or its files are wrong, or the DAG file was written for another
            task graph (rewrite it with ``python -m pipelines.schedule airflow``).
    """
    from pipelines.errors import ConfigError

    config = load_config(config_path, overrides)
    if node_id == "CsvExampleGen":  # once per run, before anything reads the data
        from pipelines.data.preflight import preflight

        preflight(config)
    tfx_dag = build_tfx_dag(config)
    skeleton = context.get("dag")
    if skeleton is not None and _graph(skeleton) != _graph(tfx_dag):
        raise ConfigError(
            f"the DAG file {getattr(skeleton, 'fileloc', '')} was written for another task graph than "
            f"{config_path} now builds",
            hint=f"rewrite it: python -m pipelines.schedule airflow --config {config_path} --out <dags folder>",
        )
    ti = context["ti"]
    # A failed attempt that Airflow will retry is not this run's record of the node; the last one is.
    _attempt["final"] = ti.try_number > ti.max_tries
    task = tfx_dag.get_task(node_id)
    task.python_callable(exec_properties=task.op_kwargs["exec_properties"], ti=context["ti"])


def build_tfx_dag(config: PipelineConfig) -> Any:
    """TFX's Airflow DAG for ``config`` (built once per process and config), with this module's launcher."""
    key = config.model_dump_json(by_alias=True)
    if key not in _built:
        from tfx.orchestration.airflow.airflow_dag_runner import AirflowDagRunner, AirflowPipelineConfig

        from pipelines.build import build_pipeline, stage_schema
        from pipelines.data.environment import check_environment

        check_environment(config)
        stage_schema(config)
        runner = AirflowDagRunner(AirflowPipelineConfig(supported_launcher_classes=[_launcher_class()]))
        _built.clear()
        _built[key] = runner.run(build_pipeline(config))
    return _built[key]


def task_graph(config: PipelineConfig) -> dict[str, list[str]]:
    """Node id -> the node ids it runs after, in run order: the DAG file's task graph."""
    return _graph(build_tfx_dag(config))


def _graph(dag: Any) -> dict[str, list[str]]:
    return {t.task_id: sorted(t.upstream_task_ids) for t in dag.topological_sort()}


def _launcher_class() -> type:
    from tfx.dsl.components.common.resolver import Resolver
    from tfx.orchestration.launcher.in_process_component_launcher import InProcessComponentLauncher

    class Launcher(InProcessComponentLauncher):
        """TFX's in-process launcher: unique output names, inputs from finished executions, the record."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._is_resolver = isinstance(kwargs["component"], Resolver)
            self._decision: Any = None
            m = self._metadata_connection  # `with m` returns m itself: these hold in every use below
            m.search_artifacts = functools.partial(_search_finished, m)
            m.register_execution = functools.partial(_register_attempt, m, m.register_execution)
            m.publish_execution = lambda **kw: _publish_attempt(m, self._decision.execution_id, **kw)

        def _run_driver(self, input_dict: Any, output_dict: Any, exec_properties: Any) -> Any:
            with self._metadata_connection as m:
                driver = _driver_class(self._driver_class)(metadata_handle=m)
                self._decision = driver.pre_execution(
                    input_dict=input_dict,
                    output_dict=output_dict,
                    exec_properties=exec_properties,
                    driver_args=self._driver_args,
                    pipeline_info=self._pipeline_info,
                    component_info=self._component_info,
                )
            return self._decision

        def launch(self) -> Any:
            try:
                result = super().launch()
            except BaseException:
                self._record(failed=True)
                raise
            self._record(failed=False)
            return result

        def _record(self, failed: bool) -> None:
            if self._decision is None or self._is_resolver:
                return
            with self._metadata_connection as m:
                node, final = self._component_info.component_id, not failed or _attempt["final"]
                _file_under_run(m.store, self._pipeline_info, node, self._decision, failed, final)

    return Launcher


def _driver_class(base: type) -> type:
    class Driver(base):  # type: ignore[misc, valid-type]
        def _prepare_output_artifacts(self, **kwargs: Any) -> Any:
            result = super()._prepare_output_artifacts(**kwargs)
            node, run_id = kwargs["component_info"].component_id, kwargs["pipeline_info"].run_id
            for key, artifacts in result.items():
                for i, artifact in enumerate(artifacts):
                    artifact.name = f"{node}.{key}:{run_id}:{kwargs['execution_id']}" + (f":{i}" if i else "")
            return result

    return Driver


def _register_attempt(
    m: Any,
    register: Any,
    pipeline_info: Any,
    component_info: Any,
    contexts: list[Any],
    exec_properties: dict[str, Any] | None = None,
    input_artifacts: Any = None,
) -> Any:
    """TFX's ``Metadata.register_execution``, with a new execution for each attempt of a node in a run.

    TFX reuses the execution of the node's first attempt in the run and records its input events
    again, which ML Metadata refuses (``AlreadyExistsError: Given event already exists``): every
    Airflow retry of a task whose first attempt had started failed that way.
    """
    from ml_metadata.proto import metadata_store_pb2
    from tfx.orchestration import metadata

    previous = m.get_component_run_context(component_info)
    if previous is None:
        return register(pipeline_info, component_info, contexts, exec_properties, input_artifacts)
    execution = m._prepare_execution(metadata.EXECUTION_STATE_NEW, exec_properties or {}, pipeline_info, component_info)
    pairs = m._artifact_and_event_pairs(artifact_dict=input_artifacts or {}, event_type=metadata_store_pb2.Event.INPUT)
    execution.id, ids, _ = m.store.put_execution(execution, pairs, [*contexts, previous])
    contexts.append(previous)
    for (artifact, _), artifact_id in zip(pairs, ids, strict=True):
        artifact.id = artifact_id
    return execution


def _publish_attempt(
    m: Any, execution_id: int, component_info: Any, output_artifacts: Any = None, exec_properties: Any = None
) -> None:
    """TFX's ``Metadata.publish_execution`` for this attempt's execution (TFX assumes one per node and run)."""
    from tfx.orchestration import metadata
    from tfx.types.artifact import ArtifactState

    [execution] = m.store.get_executions_by_id([execution_id])
    if execution.properties["state"].string_value in metadata.FINAL_EXECUTION_STATES:
        return
    contexts = [
        m.get_component_run_context(component_info),
        m.get_pipeline_run_context(component_info.pipeline_info),
        m.get_pipeline_context(component_info.pipeline_info),
    ]
    m.update_execution(
        execution=execution,
        component_info=component_info,
        output_artifacts=output_artifacts,
        exec_properties=exec_properties,
        execution_state=metadata.EXECUTION_STATE_COMPLETE,
        artifact_state=ArtifactState.PUBLISHED,
        contexts=[c for c in contexts if c is not None],
    )


def _search_finished(m: Any, artifact_name: str, pipeline_info: Any, producer_component_id: str) -> list[Any]:
    """TFX's ``Metadata.search_artifacts``, from the producer's last finished execution in the run."""
    from ml_metadata.proto import metadata_store_pb2
    from tfx.types import artifact_utils

    context = m.get_pipeline_run_context(pipeline_info)
    if context is None:
        raise RuntimeError(f"Pipeline run context for {pipeline_info} does not exist")
    finished = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)
    executions = [
        e
        for e in m.store.get_executions_by_context(context.id)
        if e.properties["component_id"].string_value == producer_component_id and e.last_known_state in finished
    ]
    if not executions:
        raise RuntimeError(f"no finished execution of {producer_component_id} in run {pipeline_info.run_id}")
    producer = max(executions, key=lambda e: e.id)
    ids = [
        e.artifact_id
        for e in m.store.get_events_by_execution_ids([producer.id])
        if e.type == metadata_store_pb2.Event.OUTPUT and e.path.steps[0].key == artifact_name
    ]
    artifacts = m.store.get_artifacts_by_id(ids)
    type_ids = sorted({a.type_id for a in artifacts})
    types = dict(zip(type_ids, m.store.get_artifact_types_by_id(type_ids), strict=False))
    return [artifact_utils.deserialize_artifact(types[a.type_id], a) for a in artifacts]


def _file_under_run(store: Any, pipeline_info: Any, node_id: str, decision: Any, failed: bool, final: bool) -> None:
    """Mark a failed execution FAILED; file a ``final`` one and its outputs under ``pipeline_run`` and ``node``."""
    from ml_metadata import errors
    from ml_metadata.proto import metadata_store_pb2 as pb

    [execution] = store.get_executions_by_id([decision.execution_id])
    if failed and execution.last_known_state not in (pb.Execution.COMPLETE, pb.Execution.CACHED):
        execution.last_known_state = pb.Execution.FAILED
        store.put_execution(execution, [], [])
    if not final:
        return
    pipeline = _context(store, "pipeline", pipeline_info.pipeline_name)
    run = _context(store, "pipeline_run", pipeline_info.run_id, {ENGINE_PROPERTY: "airflow"})
    node = _context(store, "node", f"{pipeline_info.pipeline_name}.{node_id}")
    for parent, child in ((pipeline, run), (pipeline, node)):
        with contextlib.suppress(errors.AlreadyExistsError):
            store.put_parent_contexts([pb.ParentContext(child_id=child.id, parent_id=parent.id)])
    outputs = [e.artifact_id for e in store.get_events_by_execution_ids([execution.id]) if e.type == pb.Event.OUTPUT]
    for ctx in (run, node):
        store.put_attributions_and_associations(
            [pb.Attribution(artifact_id=a, context_id=ctx.id) for a in outputs],
            [pb.Association(execution_id=execution.id, context_id=ctx.id)],
        )


def _context(store: Any, type_name: str, name: str, properties: dict[str, str] | None = None) -> Any:
    from ml_metadata.proto import metadata_store_pb2 as pb

    found = store.get_context_by_type_and_name(type_name, name)
    if found is not None:
        return found
    type_id = store.put_context_type(pb.ContextType(name=type_name), can_add_fields=True, can_omit_fields=True)
    context = pb.Context(type_id=type_id, name=name)
    for key, value in (properties or {}).items():
        context.custom_properties[key].string_value = value
    [context.id] = store.put_contexts([context])
    return context
