"""What a served version was trained on: its training statistics (ML Metadata lineage) and push-time metrics.

A pushed version is found in ML Metadata as the ``PushedModel`` artifact whose ``pushed_version``
property names it; the run that pushed it (its ``pipeline_run`` context) holds the
StatisticsGen statistics it was trained on. The evaluation figures recorded at push time
are the version's ``assets.extra/eval_metrics.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from components.serving_paths import EVAL_METRICS_FILE, EXTRA_DIR
from pipelines.config import PipelineConfig

__all__ = ["Baseline", "eval_metrics", "load_baseline", "pushing_run"]


@dataclass
class Baseline:
    """One version's training statistics (``train`` split, or None when not found) and eval metrics."""

    version: int
    run_id: str | None = None
    statistics: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    note: str = ""


def eval_metrics(serving_dir: str, model_name: str, version: int) -> dict[str, float]:
    """``assets.extra/eval_metrics.json`` of a pushed version (empty when the pusher wrote none)."""
    path = fs.join(serving_dir, model_name, str(version), EXTRA_DIR, EVAL_METRICS_FILE)
    if not fs.exists(path):
        return {}
    return {k: float(v) for k, v in json.loads(fs.read_text(path)).get("metrics", {}).items()}


def pushing_run(metadata_path: str, version: int) -> str | None:
    """The id of the run whose Pusher pushed ``version`` (newest such run), or None."""
    from pipelines.results.mlmd import artifact_property, open_store

    if not fs.exists(metadata_path):
        return None
    store = open_store(metadata_path)
    pushed = [
        a for a in store.get_artifacts_by_type("PushedModel") if artifact_property(a, "pushed_version") == str(version)
    ]
    if not pushed:
        return None
    run_type = {t.name: t.id for t in store.get_context_types()}.get("pipeline_run")
    events = store.get_events_by_artifact_ids([a.id for a in pushed])
    for execution_id in sorted({e.execution_id for e in events}, reverse=True):
        for ctx in store.get_contexts_by_execution(execution_id):
            if ctx.type_id == run_type:
                return ctx.name
    return None


def load_baseline(config: PipelineConfig, version: int) -> Baseline:
    """``version``'s training statistics through ML Metadata lineage, and its push-time eval metrics."""
    from components.drift import load_stats
    from pipelines.results.mlmd import read_run

    model = config.push.model_name or config.pipeline.name
    base = Baseline(version, metrics=eval_metrics(config.push.serving_dir, model, version))
    base.run_id = pushing_run(config.metadata_path, version)
    if base.run_id is None:
        base.note = f"no run in {config.metadata_path} pushed version {version}: skew not measured"
        return base
    stats = read_run(config.metadata_path, config.pipeline.name, base.run_id).of_type("ExampleStatistics")
    stats = [a for a in stats if a.producer == "StatisticsGen"] or stats
    if not stats:
        base.note = f"run {base.run_id} has no StatisticsGen statistics: skew not measured"
        return base
    base.statistics = load_stats(stats[-1].uri, "train")
    return base
