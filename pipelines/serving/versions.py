"""What ``pipelines.push`` does: the pushed versions of a model (a table or JSON), and rollback.

The layout itself is :mod:`components.serving_layout`; this module turns its
``LayoutError`` into :class:`pipelines.errors.ServingError` (cause kept) and words the
answers. Loads no TensorFlow.

Example:
    >>> print(versions_report("serving", "ad_click"))
    >>> done = rollback_model("serving", "ad_click")
    >>> print(done.describe(poll_seconds=2))
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs
from components import serving_layout
from components.serving_layout import VersionInfo
from pipelines.errors import ServingError

__all__ = ["Rollback", "format_versions", "pushed_versions", "rollback_model", "versions_as_json", "versions_report"]


def pushed_versions(serving_dir: str, model_name: str, config_file: str = "FILE") -> list[VersionInfo]:
    """Every pushed version of ``model_name``, oldest first.

    Raises:
        ServingError: there is none, or models.config cannot be read.
    """
    try:
        versions = serving_layout.list_versions(serving_dir, model_name)
    except serving_layout.LayoutError as exc:
        raise ServingError(str(exc)) from exc
    if not versions:
        raise ServingError(
            f"model {model_name!r} has no pushed versions under {fs.join(serving_dir, model_name)}",
            hint=f"run the pipeline to push one: python -m pipelines.run --config {config_file}",
        )
    return versions


def format_versions(model_name: str, model_dir: str, versions: list[VersionInfo]) -> str:
    """The ``list`` table, newest version first; the served column as wide as its widest cell."""
    rows = []
    for v in sorted(versions, key=lambda v: v.version, reverse=True):
        pushed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.pushed_at))
        served = " ".join(filter(None, ["yes" if v.served else "", f"({','.join(v.labels)})" if v.labels else ""]))
        shown = ", ".join(f"{k}={m:.4f}" for k, m in sorted(v.metrics.items())) or "-"
        rows.append(("*" if v.served else " ", v.version, pushed, served, shown))
    width = max([len("served"), *(len(row[3]) for row in rows)])
    lines = [
        f"model {model_name}: {model_dir}",
        "",
        f"  {'version':<12} {'pushed (local time)':<20} {'served':<{width}} metrics",
    ]
    lines += [f"{m} {ver:<12} {p:<20} {s:<{width}} {shown}" for m, ver, p, s, shown in rows]
    return "\n".join(lines)


def versions_as_json(versions: list[VersionInfo]) -> list[dict[str, Any]]:
    """The ``list --json`` records, oldest first."""
    return [
        {
            "version": v.version,
            "path": v.path,
            "served": v.served,
            "labels": list(v.labels),
            "metrics": dict(v.metrics),
            "pushed_at": v.pushed_at,
        }
        for v in versions
    ]


def versions_report(serving_dir: str, model_name: str, *, as_json: bool = False, config_file: str = "FILE") -> str:
    """``pipelines.push list``: the versions as a table (or JSON text).

    Raises:
        ServingError: no pushed version, or an unreadable models.config.
    """
    versions = pushed_versions(serving_dir, model_name, config_file)
    if as_json:
        return json.dumps(versions_as_json(versions), indent=2)
    return format_versions(model_name, fs.join(serving_dir, model_name), versions)


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: the version served now and the one served before."""

    model_name: str
    now: int
    before: int | None
    config_path: str

    def describe(self, poll_seconds: float) -> str:
        """Two lines for the user: what is served now, and when servers pick it up."""
        if self.now == self.before:
            head = f"{self.model_name}: already serving version {self.now}; rewrote {self.config_path}"
        else:
            head = (
                f"{self.model_name}: now serving version {self.now} (was {self.before}); "
                f"pinned as 'stable' in {self.config_path}"
            )
        return (
            f"{head}\n  pipelines.serve picks it up within {poll_seconds:g} s (serving.poll_seconds); "
            f"TF Serving within its --model_config_file_poll_wait_seconds"
        )


def rollback_model(serving_dir: str, model_name: str, to: int | None = None, config_file: str = "FILE") -> Rollback:
    """``pipelines.push rollback``: serve the version before the served one (or ``to``).

    Raises:
        ServingError: no pushed version, ``to`` does not exist, or nothing is older.
    """
    pushed_versions(serving_dir, model_name, config_file)
    try:
        now, before = serving_layout.rollback(serving_dir, model_name, to=to)
    except serving_layout.LayoutError as exc:
        raise ServingError(
            str(exc), hint=f"`python -m pipelines.push list --config {config_file}` shows the versions"
        ) from exc
    return Rollback(model_name, now, before, fs.join(serving_dir, serving_layout.CONFIG_FILE))
