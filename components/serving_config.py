"""``<serving_dir>/models.config`` and ``routing.json``: which versions are served, under which labels, with what share.

``models.config`` is a text ``ModelServerConfig`` as TF Serving reads it with ``--model_config_file``:
every model directory, its ``base_path``, the labelled versions (``specific`` policy) and the labels:
``stable`` always, ``canary`` while a second version is tried beside it.

``routing.json`` holds the share of the unlabelled model path each non-stable label gets
(``{"ad_click": {"canary": 0.1}}``). It is a sidecar because ``ModelServerConfig`` has no field
for a traffic share (TF Serving does not split traffic) and TF Serving rejects unknown fields;
TF Serving ignores the file, the built-in server reads it at each poll. Both files are written
atomically (:func:`components.filesystem.write_text`) under the layout lock, models.config first:
a share whose label is gone is ignored and a label without a share gets labelled requests only,
so every pair of files a polling server can read is a consistent state.

Every change keeps the labels it does not name: a push moves ``stable`` and keeps ``canary``
(dropped only when it names the version that became stable, or a version no longer on disk).

Example:
    >>> write_models_config("serving", pins={"ad_click": 1716903600})
    'serving/models.config'
    >>> served_version("serving", "ad_click")
    1716903600
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from components import filesystem as fs
from components.serving_paths import (
    CONFIG_FILE,
    STABLE_LABEL,
    LayoutError,
    absolute,
    locked,
    model_names,
    version_dirs,
)

__all__ = [
    "CANARY_LABEL",
    "ROUTING_FILE",
    "STAGED_CONFIG_FILE",
    "Labels",
    "ModelEntry",
    "label_move_step",
    "model_labels",
    "no_such_version",
    "read_models_config",
    "read_routing",
    "render_models_config",
    "served_version",
    "sync_staged_config",
    "update_labels",
    "write_models_config",
]

CANARY_LABEL = "canary"
ROUTING_FILE = "routing.json"
STAGED_CONFIG_FILE = ".tf_serving_models.config"  # what a supervised tensorflow_model_server reads


@dataclass(frozen=True)
class ModelEntry:
    """One model of models.config."""

    name: str
    base_path: str
    versions: tuple[int, ...]  # the ``specific`` policy; empty means TF Serving's default (latest)
    labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Labels:
    """What one model serves: ``{label: version}`` and ``{label: share of the unlabelled path}``."""

    versions: Mapping[str, int]
    shares: Mapping[str, float] = field(default_factory=dict)


def _parse(path: str, text: str) -> dict[str, ModelEntry]:
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise LayoutError(
            f"{path} is not a valid ModelServerConfig ({exc}); "
            f"delete it and run `python -m pipelines.push rollback --to VERSION` "
            f"to write a fresh one"
        ) from exc
    entries = {}
    for model in config.model_config_list.config:
        versions = tuple(model.model_version_policy.specific.versions)
        entries[model.name] = ModelEntry(model.name, model.base_path, versions, dict(model.version_labels))
    return entries


def _read_optional(path: str) -> str | None:
    if not fs.isfile(path):
        return None
    try:
        return fs.read_text(path)
    except FileNotFoundError:  # removed between the check and the read
        return None


def read_models_config(serving_dir: str | os.PathLike[str], file_name: str = CONFIG_FILE) -> dict[str, ModelEntry]:
    """The models in ``<serving_dir>/models.config`` (or ``file_name``) by name; ``{}`` when there is no file.

    Raises:
        LayoutError: the file exists but is not a text ModelServerConfig.
    """
    path = fs.join(os.fspath(serving_dir), file_name)
    text = _read_optional(path)
    return {} if text is None else _parse(path, text)


def read_routing(serving_dir: str | os.PathLike[str]) -> dict[str, dict[str, float]]:
    """``{model: {label: share}}`` from ``<serving_dir>/routing.json``; ``{}`` when there is no file.

    Raises:
        LayoutError: the file is not JSON of that shape, or a share is not in (0, 1).
    """
    path = fs.join(os.fspath(serving_dir), ROUTING_FILE)
    text = _read_optional(path)
    if text is None:
        return {}
    fix = "delete it and run `python -m pipelines.push canary --fraction F` to write a fresh one"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LayoutError(f"{path} is not JSON ({exc}); {fix}") from exc
    if not isinstance(data, dict) or not all(isinstance(shares, dict) for shares in data.values()):
        raise LayoutError(f"{path} must map each model to {{label: share}}; {fix}")
    routing: dict[str, dict[str, float]] = {}
    for model, shares in data.items():
        for label, share in shares.items():
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
                raise LayoutError(f"{path}: {model}.{label} = {share!r} is not a share between 0 and 1; {fix}")
        routing[model] = {label: float(share) for label, share in shares.items()}
    return routing


def served_version(serving_dir: str | os.PathLike[str], model_name: str) -> int | None:
    """The version a server following models.config serves: the ``stable`` pin if it exists on
    disk, else the newest version (TF Serving's default policy). None when there is no version."""
    versions = version_dirs(serving_dir, model_name)
    entry = read_models_config(serving_dir).get(model_name)
    if entry is not None:
        pinned = entry.labels.get(STABLE_LABEL, max(entry.versions) if entry.versions else None)
        if pinned in versions:
            return pinned
    return max(versions) if versions else None


def model_labels(serving_dir: str | os.PathLike[str], model_name: str) -> Labels:
    """The labels models.config gives ``model_name`` whose versions exist on disk (``stable`` on
    :func:`served_version` when the model is in the file), and the shares of those labels."""
    versions = version_dirs(serving_dir, model_name)
    entry = read_models_config(serving_dir).get(model_name)
    labels = {k: v for k, v in (entry.labels if entry else {}).items() if v in versions}
    stable = served_version(serving_dir, model_name)
    if entry is not None and stable is not None:
        labels[STABLE_LABEL] = stable
    shares = read_routing(serving_dir).get(model_name, {})
    return Labels(labels, {k: s for k, s in shares.items() if k in labels and k != STABLE_LABEL})


def no_such_version(
    serving_dir: str | os.PathLike[str], model_name: str, version: int, versions: Mapping[int, str]
) -> str:
    """The message for a version that is not on disk, naming the ones that are."""
    where = fs.join(os.fspath(serving_dir), model_name)
    have = ", ".join(str(v) for v in versions) or "none"
    return f"version {version} of model {model_name!r} does not exist under {where} (versions: {have})"


def render_models_config(entries: Mapping[str, ModelEntry]) -> str:
    """The text ModelServerConfig of ``entries`` (models sorted by name)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for name, entry in sorted(entries.items()):
        model = config.model_config_list.config.add()
        model.name = name
        model.base_path = entry.base_path
        model.model_platform = "tensorflow"
        model.model_version_policy.specific.versions.extend(sorted(entry.versions))
        for label, version in sorted(entry.labels.items()):
            model.version_labels[label] = version
    return text_format.MessageToString(config)


def _write(serving_dir: str, served: Mapping[str, Labels]) -> str:
    """Write models.config, then routing.json (lock held)."""
    entries = {
        name: ModelEntry(name, absolute(fs.join(serving_dir, name)), tuple(set(m.versions.values())), m.versions)
        for name, m in served.items()
    }
    path = fs.join(serving_dir, CONFIG_FILE)
    fs.write_text(path, render_models_config(entries))
    routing = {name: dict(sorted(m.shares.items())) for name, m in sorted(served.items()) if m.shares}
    routing_path = fs.join(serving_dir, ROUTING_FILE)
    if routing or fs.exists(routing_path):
        fs.write_text(routing_path, json.dumps(routing, indent=2) + "\n")
    return path


def _current(serving_dir: str) -> dict[str, Labels]:
    """Every model's labels; ``stable`` on :func:`served_version` for a model not in models.config yet."""
    served = {}
    for name in model_names(serving_dir):
        labels = model_labels(serving_dir, name)
        stable = served_version(serving_dir, name)
        if STABLE_LABEL not in labels.versions and stable is not None:
            labels = Labels({**labels.versions, STABLE_LABEL: stable}, labels.shares)
        served[name] = labels
    return served


def update_labels(
    serving_dir: str | os.PathLike[str], model_name: str, edit: Callable[[Labels, Mapping[int, str]], Labels]
) -> tuple[Labels, Labels]:
    """Change one model's labels and shares under the layout lock; every other model and label stays.

    ``edit(current labels, {version: path} on disk)`` returns the new labels; it may raise
    :class:`LayoutError` to refuse (nothing is written then). Returns ``(before, after)``.
    """
    serving_dir = os.fspath(serving_dir)
    with locked(serving_dir):
        served = _current(serving_dir)
        before = served.get(model_name, Labels({}))
        after = edit(before, version_dirs(serving_dir, model_name))
        served[model_name] = after
        _write(serving_dir, served)
    return before, after


def write_models_config(serving_dir: str | os.PathLike[str], *, pins: Mapping[str, int] | None = None) -> str:
    """Write ``<serving_dir>/models.config`` naming every model directory under ``serving_dir``.

    ``stable`` goes to the version in ``pins`` for that model, else stays on the version
    models.config labels ``stable`` (if it still exists), else the newest. Other labels stay,
    except one naming the version that became stable.

    Returns:
        the path of models.config.

    Raises:
        LayoutError: a pinned version does not exist.
    """
    serving_dir = os.fspath(serving_dir)
    with locked(serving_dir):
        served = _current(serving_dir)
        for name, version in (pins or {}).items():
            versions = version_dirs(serving_dir, name)
            if version not in versions:
                raise LayoutError(no_such_version(serving_dir, name, version, versions))
            old = served.get(name, Labels({}))
            labels = {k: v for k, v in old.versions.items() if v != version}
            labels[STABLE_LABEL] = version
            served[name] = Labels(labels, {k: s for k, s in old.shares.items() if k in labels})
        return _write(serving_dir, served)


# --------------------------------------------------------------------------- a real TF Serving


def label_move_step(
    desired: Mapping[str, ModelEntry],
    applied: Mapping[str, ModelEntry],
    available: Callable[[str], Collection[int]],
) -> dict[str, ModelEntry]:
    """The config to hand a real TF Serving next, so it is never asked to label a version it has not loaded.

    TF Serving refuses a config that moves a label to a version that is not AVAILABLE. Step one
    loads the new versions with the labels where they were (``applied``); once ``available(model)``
    lists a label's new version, the next step moves the label and drops the versions no label
    needs. Called until it returns ``desired``. A label that did not exist before waits too.
    """
    staged = {}
    for name, want in desired.items():
        before = applied.get(name)
        old_labels = dict(before.labels) if before else {}
        ready = set(available(name))
        labels = {}
        for label, version in want.labels.items():
            if version in ready or old_labels.get(label) == version:
                labels[label] = version
            elif label in old_labels:
                labels[label] = old_labels[label]  # step one: the version loads, the label stays
        versions = tuple(sorted(set(want.versions) | set(labels.values())))
        staged[name] = ModelEntry(name, want.base_path, versions, labels)
    return staged


def sync_staged_config(
    serving_dir: str | os.PathLike[str],
    available: Callable[[str], Collection[int]],
    staged_file: str = STAGED_CONFIG_FILE,
) -> bool:
    """One step of :func:`label_move_step` from models.config to ``<serving_dir>/<staged_file>`` (the
    file a supervised ``tensorflow_model_server`` reads). True when the staged file equals models.config."""
    serving_dir = os.fspath(serving_dir)
    desired = read_models_config(serving_dir)
    applied = read_models_config(serving_dir, staged_file)
    staged = label_move_step(desired, applied, available)
    if staged != applied:
        fs.write_text(fs.join(serving_dir, staged_file), render_models_config(staged))
    return staged == desired
