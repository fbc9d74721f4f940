"""Decide a fully cached rerun before importing anything heavy.

Importing TFX costs about 30 s on the 2-core machine, so a rerun where TFX would find
every component cached still took that long. After each successful run we record a
fingerprint of everything TFX's cache keys depend on, plus the state of ML Metadata:

- the validated config (every value, paths absolute) and the ``--until`` stage;
- each input file's path, size and modification time (what CsvExampleGen's input
  fingerprint uses), and the curated schema's content;
- the code the pipeline runs (``components/``, the builder) and any user module;
- the locked dependency set (``requirements.lock``);
- the ML Metadata file's size and modification time: any other run, push or blessing
  since then changes it, and with it what the resolvers would pick.

If all of these are unchanged, TFX would reuse every component, so the recorded
summary is reported with every component ``cached`` and TFX is not imported.
``--no-fast-path`` always goes through TFX.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pipelines.config import PipelineConfig
from pipelines.data.sources import resolve

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
        st = os.stat(path)
        h.update(f"{path}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    for path in ([Path(config.schema_.path)] if config.schema_.path else []) + _code_files(config):
        h.update(str(path).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _metadata_state(config: PipelineConfig) -> list[int] | None:
    try:
        st = os.stat(config.metadata_path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _state_path(config: PipelineConfig) -> str:
    return os.path.join(config.pipeline.root, STATE_FILE)


def record_success(config: PipelineConfig, until: str | None, summary: dict[str, Any]) -> None:
    """Remember a succeeded run (atomically), for the next run's check."""
    state = {"fingerprint": fingerprint(config, until), "metadata": _metadata_state(config), "summary": summary}
    path = _state_path(config)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


def cached_summary(config: PipelineConfig, until: str | None) -> dict[str, Any] | None:
    """The recorded summary, all components ``cached``, when nothing changed since; else None."""
    try:
        with open(_state_path(config), encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return None
    if state.get("metadata") != _metadata_state(config) or state.get("fingerprint") != fingerprint(config, until):
        return None
    summary = dict(state["summary"])
    pushed = summary.get("pushed")
    if pushed and not os.path.isdir(pushed["path"]):
        return None  # the pushed version was removed: let TFX report the run as it is
    summary["components"] = [
        {**c, "status": "cached" if c["status"] in ("ran", "cached") else c["status"], "seconds": 0.0}
        for c in summary["components"]
    ]
    summary["engine"] = "fast-path"
    return summary
