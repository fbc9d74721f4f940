"""One pipeline run as ML Metadata recorded it: its executions per node and its artifacts.

Every engine writes the same records (TFX's launcher publishes each node's execution into the
run's ``pipeline_run`` context, with its state and times, and attributes the artifacts it
produced or reused to that context), so what is read here is the same whatever ran the pipeline.
The store is opened read-only.

Example:
    >>> run = read_run(config.metadata_path, config.pipeline.name, outcome.run_id)
    >>> [(e.node, e.state) for e in run.executions][:2]
    [('CsvExampleGen', 'CACHED'), ('ImportSchemaGen', 'CACHED')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs

__all__ = [
    "Artifact",
    "Execution",
    "RunContext",
    "RunMetadata",
    "artifact_property",
    "latest_run_id",
    "open_store",
    "read_run",
    "run_contexts",
]


@dataclass(frozen=True)
class Execution:
    """One node's execution in the run: state COMPLETE (ran), CACHED, FAILED, RUNNING, NEW or CANCELED."""

    node: str
    state: str
    seconds: float  # from its creation to its last update in ML Metadata


@dataclass(frozen=True)
class Artifact:
    """An artifact of the run: its MLMD type name, the node that produced it, and the MLMD record."""

    type_name: str
    producer: str | None
    mlmd: Any  # ml_metadata.proto.metadata_store_pb2.Artifact

    @property
    def uri(self) -> str:
        return self.mlmd.uri


@dataclass
class RunMetadata:
    """What ML Metadata holds for one run; ``found`` is False when the run left no record."""

    run_id: str
    found: bool = False
    executions: list[Execution] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)

    def of_type(self, type_name: str, producer: str | None = None) -> list[Artifact]:
        """The run's artifacts of one type (optionally from one node), oldest first."""
        return [a for a in self.artifacts if a.type_name == type_name and (producer is None or a.producer == producer)]


def open_store(metadata_path: str) -> Any:
    """A read-only ``MetadataStore`` on the SQLite file ``metadata_path``."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    cfg = metadata_store_pb2.ConnectionConfig()
    cfg.sqlite.filename_uri = metadata_path
    cfg.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(cfg)


def _node_of_executions(store: Any, pipeline_name: str, execution_ids: set[int]) -> dict[int, str]:
    """Execution id -> node id, from each execution's ``node`` context (named ``<pipeline>.<node>``).

    Only the executions asked about are looked up, so reading a run costs the same however long
    the pipeline's history is.
    """
    prefix = f"{pipeline_name}."
    node_type = store.get_context_type("node").id
    nodes: dict[int, str] = {}
    for execution_id in execution_ids:
        for ctx in store.get_contexts_by_execution(execution_id):
            if ctx.type_id == node_type and ctx.name.startswith(prefix):
                nodes[execution_id] = ctx.name[len(prefix) :]
    return nodes


def read_run(metadata_path: str, pipeline_name: str, run_id: str) -> RunMetadata:
    """The executions and artifacts ML Metadata recorded for the run ``run_id`` of ``pipeline_name``."""
    from ml_metadata.proto import metadata_store_pb2

    record = RunMetadata(run_id)
    if not fs.exists(metadata_path):
        return record
    store = open_store(metadata_path)
    run = store.get_context_by_type_and_name("pipeline_run", run_id)
    if run is None:
        return record
    record.found = True
    executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.id)
    artifacts = sorted(store.get_artifacts_by_context(run.id), key=lambda a: a.id)
    events = store.get_events_by_artifact_ids([a.id for a in artifacts]) if artifacts else []
    outputs = [e for e in events if e.type == metadata_store_pb2.Event.OUTPUT]
    node_of = _node_of_executions(store, pipeline_name, {e.id for e in executions} | {e.execution_id for e in outputs})
    state = metadata_store_pb2.Execution.State.Name
    for e in executions:
        if e.id in node_of:
            seconds = max(0, e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000
            record.executions.append(Execution(node_of[e.id], state(e.last_known_state), seconds))
    producer: dict[int, str] = {}
    for event in outputs:
        if event.execution_id in node_of:
            producer.setdefault(event.artifact_id, node_of[event.execution_id])
    types = {t.id: t.name for t in store.get_artifact_types()}
    record.artifacts = [Artifact(types.get(a.type_id, "?"), producer.get(a.id), a) for a in artifacts]
    return record


@dataclass(frozen=True)
class RunContext:
    """One run's ``pipeline_run`` context: its id, when it started and its last execution update (epoch s)."""

    run_id: str
    started: float
    ended: float
    properties: dict[str, Any] = field(default_factory=dict)  # the context's custom properties (an engine's)


def run_contexts(metadata_path: str, pipeline_name: str) -> list[RunContext]:
    """Every run of ``pipeline_name`` in the store, newest first (by creation time, then id).

    Example:
        >>> [r.run_id for r in run_contexts(config.metadata_path, "ad_click")][:1]
        ['2026-01-31T10:00:00.123456']
    """
    if not fs.exists(metadata_path):
        return []
    store = open_store(metadata_path)
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline is None:
        return []
    run_type = {t.name: t.id for t in store.get_context_types()}.get("pipeline_run")
    runs = [c for c in store.get_children_contexts_by_context(pipeline.id) if c.type_id == run_type]
    out = []
    for ctx in sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id), reverse=True):
        updates = [e.last_update_time_since_epoch for e in store.get_executions_by_context(ctx.id)]
        started = ctx.create_time_since_epoch / 1000
        properties = {k: artifact_property(ctx, k) for k in ctx.custom_properties}
        out.append(RunContext(ctx.name, started, max(updates) / 1000 if updates else started, properties))
    return out


def latest_run_id(metadata_path: str, pipeline_name: str) -> str | None:
    """The id of ``pipeline_name``'s newest run in the store, or None when it has none.

    A store may hold several pipelines' runs; TFX makes each ``pipeline_run`` context a child of
    its ``pipeline`` context (named after the pipeline), so only those children are considered.
    """
    if not fs.exists(metadata_path):
        return None
    store = open_store(metadata_path)
    pipeline = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline is None:
        return None
    run_type = {t.name: t.id for t in store.get_context_types()}.get("pipeline_run")
    runs = [c for c in store.get_children_contexts_by_context(pipeline.id) if c.type_id == run_type]
    return max(runs, key=lambda c: (c.create_time_since_epoch, c.id)).name if runs else None


def artifact_property(artifact: Any, key: str) -> Any:
    """A custom property of an MLMD artifact (or context) record (int, double or string), or None."""
    value = artifact.custom_properties.get(key)
    if value is None:
        return None
    which = value.WhichOneof("value")
    return getattr(value, which) if which else None
