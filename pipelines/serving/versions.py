"""What ``pipelines.push`` does: the pushed versions of a model (a table or JSON), rollback and canaries.

The layout itself is :mod:`components.serving_layout` (labels and shares in
:mod:`components.serving_config`, the label moves in :mod:`components.serving_versions`);
this module turns its ``LayoutError`` into :class:`pipelines.errors.ServingError` (cause
kept) and words the answers. Loads no TensorFlow.

Example:
    >>> print(versions_report("serving", "ad_click"))
    >>> print(canary_model("serving", "ad_click", fraction=0.1).describe(poll_seconds=2))
    >>> print(promote_model("serving", "ad_click").describe(poll_seconds=2))
    >>> print(rollback_model("serving", "ad_click").describe(poll_seconds=2))
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from components import filesystem as fs
from components import serving_layout
from components import serving_versions as sv
from components.serving_config import CANARY_LABEL, ROUTING_FILE, STAGED_CONFIG_FILE, model_labels, sync_staged_config
from components.serving_layout import VersionInfo
from pipelines.errors import ConfigError, ServingError

__all__ = [
    "LabelChange",
    "Rollback",
    "canary_model",
    "follow_for_tf_serving",
    "format_versions",
    "promote_model",
    "pushed_versions",
    "rollback_model",
    "tf_serving_available",
    "versions_as_json",
    "versions_report",
]

T = TypeVar("T")


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


def _served_cell(v: VersionInfo, split: bool) -> str:
    """``yes (stable)`` alone; ``90% (stable)`` / ``10% (canary)`` beside a canary."""
    labels = f"({','.join(v.labels)})" if v.labels else ""
    if split and v.labels:
        return f"{v.share * 100:g}% {labels}"
    return " ".join(filter(None, ["yes" if v.served else "", labels]))


def format_versions(model_name: str, model_dir: str, versions: list[VersionInfo]) -> str:
    """The ``list`` table, newest version first; the served column as wide as its widest cell.

    Beside a canary, the served column gives each labelled version's share of the unlabelled path.
    """
    split = any(CANARY_LABEL in v.labels for v in versions)
    rows = []
    for v in sorted(versions, key=lambda v: v.version, reverse=True):
        pushed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.pushed_at))
        shown = ", ".join(f"{k}={m:.4f}" for k, m in sorted(v.metrics.items())) or "-"
        rows.append(("*" if v.served or v.labels else " ", v.version, pushed, _served_cell(v, split), shown))
    width = max([len("served"), *(len(row[3]) for row in rows)])
    lines = [
        f"model {model_name}: {model_dir}",
        "",
        f"  {'version':<12} {'pushed (local time)':<20} {'served':<{width}} metrics",
    ]
    lines += [f"{m} {ver:<12} {p:<20} {s:<{width}} {shown}" for m, ver, p, s, shown in rows]
    return "\n".join(lines)


def versions_as_json(versions: list[VersionInfo]) -> list[dict[str, Any]]:
    """The ``list --json`` records, oldest first; ``share`` is the version's share of the unlabelled path."""
    return [
        {
            "version": v.version,
            "path": v.path,
            "served": v.served,
            "labels": list(v.labels),
            "share": v.share,
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


def _pickup(poll_seconds: float) -> str:
    return (
        f"  pipelines.serve picks it up within {poll_seconds:g} s (serving.poll_seconds); "
        f"TF Serving within its --model_config_file_poll_wait_seconds"
    )


@dataclass(frozen=True)
class LabelChange:
    """What ``canary`` or ``promote`` did, in one line for the user."""

    head: str

    def describe(self, poll_seconds: float) -> str:
        """The change, and when servers pick it up."""
        return f"{self.head}\n{_pickup(poll_seconds)}"


@dataclass(frozen=True)
class Rollback:
    """What a rollback did: the version served now and the one served before (or the canary removed)."""

    model_name: str
    now: int
    before: int | None
    config_path: str
    canary_removed: int | None = None

    def describe(self, poll_seconds: float) -> str:
        """Two lines for the user: what is served now, and when servers pick it up."""
        if self.canary_removed is not None:
            head = (
                f"{self.model_name}: removed the canary (version {self.canary_removed}); "
                f"every unlabelled request goes to stable version {self.now} ({self.config_path})"
            )
        elif self.now == self.before:
            head = f"{self.model_name}: already serving version {self.now}; rewrote {self.config_path}"
        else:
            head = (
                f"{self.model_name}: now serving version {self.now} (was {self.before}); "
                f"pinned as 'stable' in {self.config_path}"
            )
        return f"{head}\n{_pickup(poll_seconds)}"


def _layout(action: Callable[[], T], config_file: str) -> T:
    try:
        return action()
    except serving_layout.LayoutError as exc:
        raise ServingError(
            str(exc), hint=f"`python -m pipelines.push list --config {config_file}` shows the versions"
        ) from exc


def rollback_model(serving_dir: str, model_name: str, to: int | None = None, config_file: str = "FILE") -> Rollback:
    """``pipelines.push rollback``: remove the canary if there is one; else serve the version
    before the served one. With ``to``: pin that version as ``stable`` (other labels stay).

    Raises:
        ServingError: no pushed version, ``to`` does not exist, or nothing is older.
    """
    pushed_versions(serving_dir, model_name, config_file)
    config_path = fs.join(serving_dir, serving_layout.CONFIG_FILE)
    if to is None and CANARY_LABEL in _layout(lambda: model_labels(serving_dir, model_name), config_file).versions:
        removed, stable = _layout(lambda: sv.remove_canary(serving_dir, model_name), config_file)
        return Rollback(model_name, stable, stable, config_path, canary_removed=removed)
    now, before = _layout(lambda: serving_layout.rollback(serving_dir, model_name, to=to), config_file)
    return Rollback(model_name, now, before, config_path)


def canary_model(
    serving_dir: str, model_name: str, fraction: float, version: int | None = None, config_file: str = "FILE"
) -> LabelChange:
    """``pipelines.push canary``: serve ``version`` (default: the newest that is not stable) as
    ``canary`` with ``fraction`` of the unlabelled path.

    Raises:
        ConfigError: ``fraction`` is not in (0, 1).
        ServingError: no pushed version, ``version`` does not exist or is the stable one.
    """
    if not 0 < fraction < 1:
        raise ConfigError(f"--fraction {fraction:g} must be between 0 and 1 (exclusive), e.g. --fraction 0.1")
    pushed_versions(serving_dir, model_name, config_file)
    canary, stable = _layout(lambda: sv.set_canary(serving_dir, model_name, fraction, version), config_file)
    return LabelChange(
        f"{model_name}: version {canary} serves {fraction * 100:g}% of unlabelled requests as 'canary' beside "
        f"stable version {stable} (labels in {fs.join(serving_dir, serving_layout.CONFIG_FILE)}, "
        f"share in {fs.join(serving_dir, ROUTING_FILE)})"
    )


def promote_model(serving_dir: str, model_name: str, config_file: str = "FILE") -> LabelChange:
    """``pipelines.push promote``: move ``stable`` to the canary's version and drop ``canary``.

    Raises:
        ServingError: no pushed version, or no canary.
    """
    pushed_versions(serving_dir, model_name, config_file)
    now, before = _layout(lambda: sv.promote_canary(serving_dir, model_name), config_file)
    return LabelChange(
        f"{model_name}: promoted the canary: version {now} is 'stable' (was {before}) and serves every "
        f"unlabelled request ({fs.join(serving_dir, serving_layout.CONFIG_FILE)})"
    )


def tf_serving_available(rest_port: int, model_name: str, host: str = "127.0.0.1", timeout: float = 5.0) -> set[int]:
    """The versions of ``model_name`` a real TF Serving reports AVAILABLE on its REST status endpoint
    (``GET /v1/models/<name>``); empty when it does not answer yet. The ``available`` argument of
    :func:`components.serving_config.sync_staged_config` for a supervised ``tensorflow_model_server``."""
    url = f"http://{host}:{rest_port}/v1/models/{model_name}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return set()
    if not isinstance(status, dict):
        return set()
    return {
        int(entry["version"])
        for entry in status.get("model_version_status", [])
        if entry.get("state") == "AVAILABLE" and str(entry.get("version", "")).isdigit()
    }


def follow_for_tf_serving(
    serving_dir: str,
    rest_port: int,
    poll_seconds: float,
    stop: threading.Event,
    log: Callable[[str], None] = print,
) -> str:
    """Keep ``<serving_dir>/.tf_serving_models.config`` (the file a supervised ``tensorflow_model_server``
    reads) in step with models.config, moving labels in two steps: a new version loads with the labels
    where they were, and a label moves once TF Serving (REST on ``rest_port``) reports the version
    AVAILABLE. Writes the first step at once and returns its path; then follows in a daemon thread until
    ``stop`` is set.

    Example:
        >>> stop = threading.Event()
        >>> staged = follow_for_tf_serving("serving", 8501, 2.0, stop)
        >>> # start tensorflow_model_server --model_config_file=<staged> ... ; stop.set() when it exits
    """

    def step() -> None:
        try:
            sync_staged_config(serving_dir, lambda name: tf_serving_available(rest_port, name))
        except (serving_layout.LayoutError, OSError) as exc:
            log(f"warning: {exc}; TF Serving keeps its current config")

    step()

    def run() -> None:
        while not stop.wait(poll_seconds):
            step()

    threading.Thread(target=run, name="tf-serving-labels", daemon=True).start()
    return fs.join(serving_dir, STAGED_CONFIG_FILE)
