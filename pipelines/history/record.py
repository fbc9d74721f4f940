"""What ML Metadata does not hold about a run, written next to it: the validated config and the engine's word.

``pipelines.run`` (``execute.run_pipeline``) calls :func:`record_run` once the run id is known:
``<pipeline.root>/runs/<run id>/run.json`` holds the config the run was made with (every value,
after ``--set``), the engine, the ``--until`` stage and the end-of-run summary (the engine's error
message and log path are nowhere else). ``compare`` diffs the configs. A run made by another
engine (Airflow) has no record: it is read from ML Metadata alone and its config is "not recorded".

Example:
    >>> record_run(config, summary, engine="local", until=None)
    '/abs/runs/ad_click/runs/2026-01-31T100000-123456/run.json'
    >>> read_record(config, "2026-01-31T10:00:00.123456")["config"]["trainer"]["learning_rate"]
    0.003
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig

__all__ = ["RECORD_FILE", "read_record", "record_path", "record_run"]

RECORD_FILE = "run.json"


def record_path(config: PipelineConfig, run_id: str) -> str:
    """``<pipeline.root>/runs/<run id>/run.json``; ``:`` and ``.`` in the id become ``''`` and ``-``
    (as the reports' names do), so the folder name is valid on every filesystem."""
    safe = run_id.replace(":", "").replace(".", "-").replace("/", "_")
    return fs.join(config.pipeline.root, "runs", safe, RECORD_FILE)


def record_run(config: PipelineConfig, summary: Any, *, engine: str, until: str | None) -> str:
    """Write the run's record atomically; returns its path. ``summary`` is a ``RunSummary`` (or its dict)."""
    data = asdict(summary) if is_dataclass(summary) else dict(summary)
    record = {
        "run_id": data["run_id"],
        "engine": engine,
        "until": until,
        "config": config.model_dump(mode="json", by_alias=True),
        "summary": data,
    }
    path = record_path(config, data["run_id"])
    fs.write_text(path, json.dumps(record, indent=1) + "\n")
    return path


def read_record(config: PipelineConfig, run_id: str) -> dict[str, Any] | None:
    """The run's record, or None when it has none (another engine made it, or it predates records)."""
    try:
        record = json.loads(fs.read_text(record_path(config, run_id)))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("run_id") == run_id else None
