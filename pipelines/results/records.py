"""Decide a fully cached rerun before importing anything heavy.

Importing TFX costs about 30 s on the 2-core machine, so a rerun where TFX would find
every component cached still took that long. After each successful run we record a
fingerprint of everything TFX's cache keys depend on, plus the state of ML Metadata:

- the validated config (every value, paths absolute) and the ``--until`` stage;
- each input file's path and :func:`components.filesystem.fingerprint`: size and modification
  time locally (what CsvExampleGen's input fingerprint uses), object generation and MD5 on
  ``gs://`` (an upload is a new generation even with the same bytes and time), and the
  curated schema's content;
- the code the pipeline runs (``components/``, the builder) and any user module;
- the locked dependency set (``requirements.lock``);
- the ML Metadata file's size and modification time: any other run, push or blessing
  since then changes it, and with it what the resolvers would pick.

If all of these are unchanged, TFX would reuse every component, so the recorded
summary is reported with every component ``cached`` and TFX is not imported.
``--no-fast-path`` always goes through TFX.

The answer describes this invocation, which made no run and pushed nothing: ``run_id`` and
``pushed`` are None, ``seconds`` is the caller's own time, and the recorded run's id, seconds
and push move under ``unchanged_since`` (``{"run_id", "seconds", "pushed"}``). The recorded
results (anomalies, metrics, blessing, reports) stay: they are still what the pipeline produces.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.data.sources import resolve

__all__ = ["STATE_FILE", "cached_summary", "fingerprint", "record_success", "unchanged_summary"]

STATE_FILE = "last_success.json"
_REPO = Path(__file__).resolve().parents[2]


def _code_files(config: PipelineConfig) -> list[Path]:
    files = sorted((_REPO / "components").glob("*.py")) + sorted((_REPO / "pipelines" / "build").glob("*.py"))
    for fn in (config.transform.preprocessing_fn, config.trainer.run_fn):
        if fn:
            import importlib.util

            spec = importlib.util.find_spec(fn.rsplit(".", 1)[0])
            if spec and spec.origin:
                files.append(Path(spec.origin))
    lock = _REPO / "requirements.lock"
    return files + ([lock] if lock.exists() else [])


def fingerprint(config: PipelineConfig, until: str | None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(config.model_dump(mode="json", by_alias=True), sort_keys=True).encode())
    h.update(repr(until).encode())
    found = resolve(config.data.source, config.data.pattern, config.data.rolling_spans)
    for path in found.files:
        h.update(f"{path}|{fs.fingerprint(path)}\n".encode())
    if config.schema_.path:
        h.update(config.schema_.path.encode())
        h.update(fs.read_bytes(config.schema_.path))
    for code in _code_files(config):  # this checkout's own source files
        h.update(str(code).encode())
        h.update(code.read_bytes())
    return h.hexdigest()


def _metadata_state(config: PipelineConfig) -> list[int] | None:
    try:
        return [fs.size(config.metadata_path), fs.mtime_ns(config.metadata_path)]
    except FileNotFoundError:
        return None


def _state_path(config: PipelineConfig) -> str:
    return fs.join(config.pipeline.root, STATE_FILE)


def record_success(config: PipelineConfig, until: str | None, summary: dict[str, Any]) -> None:
    """Remember a succeeded run (atomically), for the next run's check."""
    state = {"fingerprint": fingerprint(config, until), "metadata": _metadata_state(config), "summary": summary}
    fs.write_text(_state_path(config), json.dumps(state))


def cached_summary(config: PipelineConfig, until: str | None) -> dict[str, Any] | None:
    """The recorded summary, all components ``cached``, when nothing changed since; else None."""
    try:
        state = json.loads(fs.read_text(_state_path(config)))
    except (OSError, ValueError):
        return None
    if state.get("metadata") != _metadata_state(config) or state.get("fingerprint") != fingerprint(config, until):
        return None
    recorded = state["summary"]
    pushed = recorded.get("pushed")
    if pushed and not fs.isdir(pushed["path"]):
        return None  # the pushed version was removed: let TFX report the run as it is
    return unchanged_summary(recorded)


def unchanged_summary(recorded: dict[str, Any]) -> dict[str, Any]:
    """The summary of an invocation that found nothing changed since the ``recorded`` run.

    Example:
        >>> s = unchanged_summary(
        ...     {
        ...         "run_id": "r1",
        ...         "seconds": 75.0,
        ...         "pushed": {"version": 3, "path": "/m/3"},
        ...         "components": [{"name": "Trainer", "status": "ran", "seconds": 60.0}],
        ...     }
        ... )
        >>> s["run_id"], s["pushed"], s["unchanged_since"]["pushed"]["version"], s["components"][0]["status"]
        (None, None, 3, 'cached')
    """
    summary = dict(recorded)
    summary["unchanged_since"] = {
        "run_id": recorded.get("run_id"),
        "seconds": recorded.get("seconds"),
        "pushed": recorded.get("pushed"),
    }
    summary["components"] = [
        {**c, "status": "cached" if c["status"] in ("ran", "cached") else c["status"], "seconds": 0.0}
        for c in recorded["components"]
    ]
    summary.update(run_id=None, pushed=None, seconds=0.0, log_path=None, engine="fast-path")
    return summary
