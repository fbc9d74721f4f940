"""Version directories: publish one atomically, list them, prune old ones, roll back, try a canary.

A version appears under its integer name only by renaming a complete copy
(``.incoming-<v>-<pid>/`` -> ``<v>/``), and disappears only after being renamed to a
non-integer name (``.deleting-<v>-<pid>/``), so a server polling the directory never loads
half a model. Every change holds the layout lock (:func:`components.serving_paths.locked`).
The directory rename is :func:`components.filesystem.rename`: atomic on one local file
system; on ``gs://`` a directory rename copies object by object and is not atomic.

Example:
    >>> version, path = publish_version("runs/x/Trainer/model/6/Format-Serving", "serving", "ad_click")
    >>> prune("serving", "ad_click", keep=5)
    >>> rollback("serving", "ad_click")  # serve the previous version again
    >>> set_canary("serving", "ad_click", fraction=0.1)  # the newest non-stable version takes 10%
    >>> promote_canary("serving", "ad_click")  # ... then becomes stable
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

from components import filesystem as fs
from components.serving_config import (
    CANARY_LABEL,
    Labels,
    model_labels,
    no_such_version,
    served_version,
    update_labels,
    write_models_config,
)
from components.serving_paths import (
    DELETING,
    EVAL_METRICS_FILE,
    EXTRA_DIR,
    INCOMING,
    STABLE_LABEL,
    LayoutError,
    check_name,
    locked,
    version_dirs,
)

__all__ = [
    "ExtraFile",
    "VersionInfo",
    "list_versions",
    "promote_canary",
    "prune",
    "publish_version",
    "remove_canary",
    "rollback",
    "set_canary",
]

# bytes/str are the content; a path (os.PathLike) is a file to copy.
ExtraFile = Union[bytes, str, os.PathLike]  # noqa: UP007 - a runtime alias; `|` on os.PathLike fails on 3.10


@dataclass(frozen=True)
class VersionInfo:
    """One version directory of a model, as :func:`list_versions` reports it."""

    version: int
    path: str
    served: bool
    labels: tuple[str, ...]
    metrics: Mapping[str, float]
    pushed_at: float  # seconds since the epoch (directory mtime)
    share: float = 0.0  # of the unlabelled model path: 1.0 for stable alone, 1 - fraction beside a canary


def _read_metrics(version_path: str) -> dict[str, float]:
    path = fs.join(version_path, EXTRA_DIR, EVAL_METRICS_FILE)
    try:
        data = json.loads(fs.read_text(path)) if fs.isfile(path) else {}
    except (OSError, ValueError):
        return {}
    metrics = data.get("metrics", data) if isinstance(data, dict) else {}
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def list_versions(serving_dir: str | os.PathLike[str], model_name: str) -> list[VersionInfo]:
    """Every version of ``model_name``, oldest first, with its eval metrics and whether it is served.

    Example:
        >>> [(v.version, v.served) for v in list_versions("serving", "ad_click")]
        [(1716900000, False), (1716903600, True)]
    """
    versions = version_dirs(serving_dir, model_name)
    current = model_labels(serving_dir, model_name)
    served = served_version(serving_dir, model_name)
    labels_by_version: dict[int, list[str]] = {}
    for label, v in sorted(current.versions.items()):
        labels_by_version.setdefault(v, []).append(label)
    shares = {current.versions[label]: share for label, share in current.shares.items()}
    if served is not None:
        shares[served] = 1.0 - sum(shares.values())
    return [
        VersionInfo(
            version=v,
            path=path,
            served=v == served,
            labels=tuple(labels_by_version.get(v, [])),
            metrics=_read_metrics(path),
            pushed_at=fs.mtime_ns(path) / 1e9,
            share=shares.get(v, 0.0),
        )
        for v, path in versions.items()
    ]


def _remove_quietly(path: str) -> None:
    """Delete a tree; a failure leaves a non-integer leftover the next push removes."""
    with contextlib.suppress(OSError):
        fs.rmtree(path)


def _remove_leftovers(model_dir: str) -> None:
    """Remove partial copies and half-deleted versions of interrupted pushes and prunes.

    Only called with the lock held: no other push can be writing one of them right now.
    """
    if not fs.isdir(model_dir):
        return
    for name in fs.listdir(model_dir):
        if name.startswith((INCOMING, DELETING)):
            _remove_quietly(fs.join(model_dir, name))


def _copy_file(source: str, target: str) -> None:
    fs.copy(source, target)


def _copy_tree(src: str, dst: str) -> None:
    """Copy a directory tree file by file (empty directories included)."""
    fs.makedirs(dst)
    for name in fs.listdir(src):
        source, target = fs.join(src, name), fs.join(dst, name)
        if fs.isdir(source):
            _copy_tree(source, target)
        else:
            _copy_file(source, target)


def _write_extra(directory: str, name: str, content: ExtraFile) -> None:
    if "/" in name or name in ("", ".", ".."):
        raise LayoutError(f"extra file name {name!r} must be a plain file name")
    target = fs.join(directory, name)
    if isinstance(content, bytes):
        fs.write_bytes(target, content)
    elif isinstance(content, str):
        fs.write_text(target, content)
    else:
        _copy_file(os.fspath(content), target)


def publish_version(
    saved_model_dir: str | os.PathLike[str],
    serving_dir: str | os.PathLike[str],
    model_name: str,
    *,
    version: int | None = None,
    extra_files: Mapping[str, ExtraFile] | None = None,
) -> tuple[int, str]:
    """Copy a SavedModel to ``<serving_dir>/<model_name>/<version>/`` atomically.

    The copy is written to ``.incoming-<version>-<pid>/`` beside the versions (same file system)
    and renamed into place only when complete, so a polling server never sees a partial
    version. Leftovers of interrupted pushes are removed first.

    Args:
        saved_model_dir: the SavedModel directory (holds ``saved_model.pb``).
        serving_dir: TF Serving base directory.
        model_name: served model name.
        version: explicit version number; default ``max(now in seconds, newest + 1)``.
        extra_files: ``{file name: content}`` written to ``<version>/assets.extra/`` before the
            rename; ``bytes``/``str`` are the content, a ``pathlib.Path`` is copied.

    Returns:
        ``(version, path of the version directory)``.

    Raises:
        LayoutError: no SavedModel at ``saved_model_dir``, or ``version`` already exists.
    """
    check_name(model_name)
    src, serving_dir = os.fspath(saved_model_dir), os.fspath(serving_dir)
    if not fs.isfile(fs.join(src, "saved_model.pb")):
        raise LayoutError(
            f"{src} holds no saved_model.pb; pass the SavedModel directory (a Trainer model's <uri>/Format-Serving)"
        )
    model_dir = fs.join(serving_dir, model_name)
    with locked(serving_dir):
        fs.makedirs(model_dir)
        _remove_leftovers(model_dir)
        existing = version_dirs(serving_dir, model_name)
        if version is None:
            version = max(int(time.time()), max(existing, default=0) + 1)
        elif version in existing:
            raise LayoutError(
                f"version {version} already exists at {existing[version]}; versions are never overwritten"
            )
        elif version < 0:
            raise LayoutError(f"version must be a non-negative integer, got {version}")
        incoming = fs.join(model_dir, f"{INCOMING}{version}-{os.getpid()}")
        final = fs.join(model_dir, str(version))
        try:
            _copy_tree(src, incoming)
            if extra_files:
                extra = fs.join(incoming, EXTRA_DIR)
                fs.makedirs(extra)
                for name, content in extra_files.items():
                    _write_extra(extra, name, content)
            fs.rename(incoming, final)
        except BaseException:
            _remove_quietly(incoming)
            raise
    return version, final


def prune(serving_dir: str | os.PathLike[str], model_name: str, keep: int) -> list[int]:
    """Delete all but the newest ``keep`` versions, never one models.config labels (stable, canary).

    A version is renamed to a non-integer name before it is deleted, so a server never
    sees a half-deleted version. Returns the versions removed.
    """
    check_name(model_name)
    if keep < 1:
        raise LayoutError(f"keep must be at least 1, got {keep}")
    removed = []
    model_dir = fs.join(os.fspath(serving_dir), model_name)
    with locked(serving_dir):
        versions = version_dirs(serving_dir, model_name)
        protected = {served_version(serving_dir, model_name), *model_labels(serving_dir, model_name).versions.values()}
        protected.update(sorted(versions)[-keep:])
        for v, path in versions.items():
            if v in protected:
                continue
            doomed = fs.join(model_dir, f"{DELETING}{v}-{os.getpid()}")
            fs.rename(path, doomed)
            _remove_quietly(doomed)
            removed.append(v)
    return removed


def rollback(serving_dir: str | os.PathLike[str], model_name: str, to: int | None = None) -> tuple[int, int | None]:
    """Serve an earlier version (or the named one) by pinning it as ``stable`` in models.config.

    Other labels stay (a ``canary`` naming the version ``to`` is dropped): to remove a canary,
    :func:`remove_canary`.

    Returns:
        ``(version now served, version served before)``.

    Raises:
        LayoutError: the model has no versions, ``to`` does not exist, or there is no
            version older than the served one.
    """
    versions = version_dirs(serving_dir, check_name(model_name))
    where = fs.join(os.fspath(serving_dir), model_name)
    if not versions:
        raise LayoutError(f"model {model_name!r} has no versions under {where}; nothing to roll back")
    current = served_version(serving_dir, model_name)
    if to is None:
        older = [v for v in versions if current is not None and v < current]
        if not older:
            raise LayoutError(
                f"version {current} is the oldest version of model {model_name!r} under "
                f"{where}; there is nothing older to roll back to"
            )
        to = max(older)
    elif to not in versions:
        raise LayoutError(no_such_version(serving_dir, model_name, to, versions))
    write_models_config(serving_dir, pins={model_name: to})
    return to, current


def set_canary(
    serving_dir: str | os.PathLike[str], model_name: str, fraction: float, version: int | None = None
) -> tuple[int, int]:
    """Serve ``version`` (default: the newest one that is not stable) under ``canary`` beside
    ``stable``, with ``fraction`` of the unlabelled model path. Replaces a canary already there.

    Returns:
        ``(canary version, stable version)``.

    Raises:
        LayoutError: ``fraction`` is not in (0, 1), the model has no versions, ``version`` does
            not exist or is the stable one, or there is no version besides the stable one.
    """
    check_name(model_name)
    if isinstance(fraction, bool) or not 0 < fraction < 1:
        raise LayoutError(f"the canary fraction must be between 0 and 1 (exclusive), got {fraction}")
    where = fs.join(os.fspath(serving_dir), model_name)

    def edit(labels: Labels, versions: Mapping[int, str]) -> Labels:
        stable = labels.versions.get(STABLE_LABEL)
        if stable is None:
            raise LayoutError(f"model {model_name!r} has no versions under {where}; push one first")
        chosen = version if version is not None else max((v for v in versions if v != stable), default=None)
        if chosen is None:
            raise LayoutError(
                f"model {model_name!r} has only its stable version {stable} under {where}; "
                f"push another version to try as a canary"
            )
        if chosen not in versions:
            raise LayoutError(no_such_version(serving_dir, model_name, chosen, versions))
        if chosen == stable:
            raise LayoutError(f"version {chosen} of model {model_name!r} is the stable version; a canary must differ")
        return Labels({**labels.versions, CANARY_LABEL: chosen}, {**labels.shares, CANARY_LABEL: float(fraction)})

    _, after = update_labels(serving_dir, model_name, edit)
    return after.versions[CANARY_LABEL], after.versions[STABLE_LABEL]


def _without_canary(labels: Labels) -> dict[str, int]:
    return {k: v for k, v in labels.versions.items() if k != CANARY_LABEL}


def _no_canary(model_name: str, serving_dir: str | os.PathLike[str]) -> LayoutError:
    where = fs.join(os.fspath(serving_dir), model_name)
    return LayoutError(f"model {model_name!r} has no canary under {where}; start one with `canary --fraction F`")


def promote_canary(serving_dir: str | os.PathLike[str], model_name: str) -> tuple[int, int]:
    """Move ``stable`` to the canary's version and drop ``canary``.

    Returns:
        ``(version now stable, version stable before)``.

    Raises:
        LayoutError: the model has no canary.
    """

    def edit(labels: Labels, _versions: Mapping[int, str]) -> Labels:
        if CANARY_LABEL not in labels.versions:
            raise _no_canary(model_name, serving_dir)
        kept = _without_canary(labels)
        kept[STABLE_LABEL] = labels.versions[CANARY_LABEL]
        return Labels(kept, {k: s for k, s in labels.shares.items() if k in kept and k != CANARY_LABEL})

    before, after = update_labels(serving_dir, check_name(model_name), edit)
    return after.versions[STABLE_LABEL], before.versions[STABLE_LABEL]


def remove_canary(serving_dir: str | os.PathLike[str], model_name: str) -> tuple[int, int]:
    """Drop the ``canary`` label: every unlabelled request goes to ``stable`` again.

    Returns:
        ``(the canary version removed, the stable version)``.

    Raises:
        LayoutError: the model has no canary.
    """

    def edit(labels: Labels, _versions: Mapping[int, str]) -> Labels:
        if CANARY_LABEL not in labels.versions:
            raise _no_canary(model_name, serving_dir)
        kept = _without_canary(labels)
        return Labels(kept, {k: s for k, s in labels.shares.items() if k in kept})

    before, after = update_labels(serving_dir, check_name(model_name), edit)
    return before.versions[CANARY_LABEL], after.versions[STABLE_LABEL]
