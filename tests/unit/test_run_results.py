"""The summary is read from ML Metadata for the run the runner names (no TFX: a real MLMD store).

The store is written the way TFX's launcher writes it: a ``pipeline_run`` context per run, a
``node`` context per node (``<pipeline>.<node>``), executions with COMPLETE/CACHED/FAILED
states in both, output artifacts attributed to the run.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from components.gate import write_verdict
from pipelines.config import load_config
from pipelines.errors import DataBlockedError, PipelineRunError
from pipelines.results.mlmd import Execution
from pipelines.results.summary import collect, component_statuses, run_artifacts
from pipelines.runners.base import Progress, RunOutcome

REPO = Path(__file__).resolve().parents[2]


class Store:
    """A writable MLMD SQLite store with TFX's context layout."""

    def __init__(self, path: Path, pipeline: str) -> None:
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2 as pb

        self.pb, self.pipeline = pb, pipeline
        cfg = pb.ConnectionConfig()
        cfg.sqlite.filename_uri = str(path)
        cfg.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(cfg)
        kinds = ("pipeline", "pipeline_run", "node")
        self.ctx_types = {n: self.store.put_context_type(pb.ContextType(name=n)) for n in kinds}
        self.exec_type = self.store.put_execution_type(pb.ExecutionType(name="component"))
        self.verdict_type = self.store.put_artifact_type(pb.ArtifactType(name="ValidationVerdict"))
        self.nodes: dict[str, object] = {}

    def context(self, kind: str, name: str):
        found = self.store.get_context_by_type_and_name(kind, name)
        if found is not None:
            return found
        ctx = self.pb.Context(type_id=self.ctx_types[kind], name=name)
        [ctx.id] = self.store.put_contexts([ctx])
        return ctx

    def run(self, run_id: str, states: dict[str, str], verdict: tuple[str, dict] | None = None) -> None:
        """One run: ``{node: state}`` executions, and optionally (node, verdict) published by that node."""
        run = self.context("pipeline_run", run_id)
        # As TFX's launcher does: the run context is a child of the pipeline's context.
        parent = self.context("pipeline", self.pipeline)
        self.store.put_parent_contexts([self.pb.ParentContext(child_id=run.id, parent_id=parent.id)])
        for node, state in states.items():
            if node not in self.nodes:
                self.nodes[node] = self.context("node", f"{self.pipeline}.{node}")
            execution = self.pb.Execution(type_id=self.exec_type, last_known_state=self.pb.Execution.State.Value(state))
            outputs = []
            if verdict is not None and verdict[0] == node:
                art = self.pb.Artifact(type_id=self.verdict_type, uri=verdict[1]["uri"])
                art.custom_properties["passed"].int_value = int(verdict[1]["passed"])
                outputs.append((art, self.pb.Event(type=self.pb.Event.OUTPUT)))
            self.store.put_execution(execution, outputs, [run, self.nodes[node]])


@pytest.fixture
def config(tmp_path: Path):
    return load_config(
        REPO / "configs" / "ad_click.yaml",
        [f"pipeline.root={tmp_path / 'root'}", f"push.serving_dir={tmp_path / 'serving'}"],
    )


INGEST = {
    "CsvExampleGen": "CACHED",
    "ImportSchemaGen": "CACHED",
    "StatisticsGen": "CACHED",
    "ExampleValidator": "CACHED",
    "drift_baseline_resolver": "COMPLETE",
    "DataGate": "CACHED",
}


def _verdict(tmp_path: Path, passed: bool) -> dict:
    uri = str(tmp_path / f"verdict-{passed}")
    anomalies = (
        []
        if passed
        else [
            {
                "split": "train",
                "feature": "age",
                "kind": "INT_TYPE_BIG_INT",
                "severity": "ERROR",
                "description": "too big",
                "fix": "widen",
                "blocking": True,
                "allowed": False,
            }
        ]
    )
    write_verdict(uri, {"gate": "data", "passed": passed, "anomalies": anomalies, "drift": [], "skew": []})
    return {"uri": uri, "passed": passed}


def test_summary_is_the_named_run_not_the_newest(config, tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    store = Store(Path(config.metadata_path), config.pipeline.name)
    blocked = _verdict(tmp_path, passed=False)
    store.run("run-1", {**INGEST, "DataGate": "COMPLETE", "DataGate_stop": "FAILED"}, ("DataGate", blocked))
    store.run(
        "run-2",
        {
            **INGEST,
            "DataGate_stop": "COMPLETE",
            "Transform": "COMPLETE",
            "TransformGate": "COMPLETE",
            "TransformGate_stop": "COMPLETE",
            "Trainer": "FAILED",
        },
        ("DataGate", _verdict(tmp_path, True)),
    )

    first = collect(config, RunOutcome("run-1", "local", 12.34, "/logs/1.log", "DataBlocked: data blocked"))
    assert first.run_id == "run-1" and first.status == "blocked" and first.seconds == 12.3
    status = {c["name"]: c["status"] for c in first.components}
    assert status["DataGate"] == "failed" and status["ExampleValidator"] == "cached"
    assert status["Transform"] == status["Trainer"] == status["Pusher"] == "skipped"
    assert [a["feature"] for a in first.anomalies] == ["age"]  # from the verdict artifact
    with pytest.raises(DataBlockedError, match="DataGate stopped the run") as err:
        first.raise_for_status()
    assert "/logs/1.log" in str(err.value)

    second = collect(config, RunOutcome("run-2", "local", 5.0, None, "RuntimeError: boom"))
    status = {c["name"]: c["status"] for c in second.components}
    assert second.status == "failed" and status["DataGate"] == "ran" and status["Trainer"] == "failed"
    assert second.anomalies == [] and status["Evaluator"] == "skipped"
    with pytest.raises(PipelineRunError, match="component Trainer failed: RuntimeError: boom"):
        second.raise_for_status()


def test_the_newest_run_is_this_pipelines_own(config, tmp_path: Path) -> None:
    """Another pipeline sharing the store ran last: exploring "the latest run" still shows ours."""
    (tmp_path / "root").mkdir()
    ours = Store(Path(config.metadata_path), config.pipeline.name)
    ours.run("ours-1", INGEST, ("DataGate", _verdict(tmp_path, passed=False)))
    theirs = Store(Path(config.metadata_path), "another_pipeline")
    theirs.run("theirs-1", {"CsvExampleGen": "COMPLETE"})

    run_id, artifacts = run_artifacts(config, None)
    assert run_id == "ours-1"
    assert [a.uri for a in artifacts["ValidationVerdict"]] == [str(tmp_path / "verdict-False")]


def test_no_run_of_this_pipeline_explores_nothing(config, tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    Store(Path(config.metadata_path), "another_pipeline").run("theirs-1", {"CsvExampleGen": "COMPLETE"})
    assert run_artifacts(config, None) == (None, {})


def test_a_run_ml_metadata_never_saw_is_reported_without_an_id(config, tmp_path: Path) -> None:
    summary = collect(config, RunOutcome("never-started", "local", 1.0, None, "ValueError: compile failed"))
    assert summary.run_id is None and summary.status == "failed"
    assert {c["status"] for c in summary.components} == {"skipped"}
    with pytest.raises(PipelineRunError, match="pipeline failed: ValueError: compile failed"):
        summary.raise_for_status()


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([], "skipped"),
        (["CACHED", "CACHED"], "cached"),
        (["CACHED", "COMPLETE"], "ran"),
        (["COMPLETE", "FAILED"], "failed"),
        (["RUNNING"], "failed"),  # never ended: the run was interrupted
    ],
)
def test_component_status_from_its_nodes(states: list[str], status: str) -> None:
    executions = [
        Execution(node, state, 1.25) for node, state in zip(["Gate", "Gate_stop"][: len(states)], states, strict=True)
    ]
    [row] = component_statuses({"Gate": ["Gate", "Gate_stop"]}, executions)
    assert row == {"name": "Gate", "status": status, "seconds": round(1.25 * len(states), 1)}


def test_progress_shows_a_gate_and_its_stop_node_as_one_line() -> None:
    out = io.StringIO()
    progress = Progress(
        {"Example": ["Example"], "Gate": ["Gate", "Gate_stop"], "Train": ["Train"]}, out, stop_nodes=["Gate_stop"]
    )
    progress.started("Example")
    progress.finished("Example", cached=True)
    progress.started("resolver")  # belongs to no component: not shown
    progress.finished("resolver", cached=False)
    progress.started("Gate")
    progress.finished("Gate", cached=False)
    progress.started("Gate_stop")
    progress.failed("Gate_stop")
    lines = out.getvalue().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["[1/3]", "Example", "started"],
        ["[1/3]", "Example", "cached"],
        ["[2/3]", "Gate", "started"],
        ["[2/3]", "Gate", "blocked"],
    ]
