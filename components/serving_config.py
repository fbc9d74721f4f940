"""``<serving_dir>/models.config``: which version of each model is served, read and written.

A text ``ModelServerConfig`` as TF Serving reads it with ``--model_config_file``: every model
directory, its ``base_path``, one served version (``specific`` policy) and the ``stable``
label on it. Written atomically (:func:`components.filesystem.write_text`) under the layout
lock, so a polling server reads the old file or the new one, never half of one.

Example:
    >>> write_models_config("serving", pins={"ad_click": 1716903600})
    'serving/models.config'
    >>> served_version("serving", "ad_click")
    1716903600
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
    "ModelEntry",
    "no_such_version",
    "read_models_config",
    "served_version",
    "write_models_config",
]


@dataclass(frozen=True)
class ModelEntry:
    """One model of models.config."""

    name: str
    base_path: str
    versions: tuple[int, ...]  # the ``specific`` policy; empty means TF Serving's default (latest)
    labels: Mapping[str, int] = field(default_factory=dict)


def read_models_config(serving_dir: str | os.PathLike[str]) -> dict[str, ModelEntry]:
    """The models in ``<serving_dir>/models.config`` by name; ``{}`` when there is no file.

    Raises:
        LayoutError: the file exists but is not a text ModelServerConfig.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = fs.join(os.fspath(serving_dir), CONFIG_FILE)
    if not fs.isfile(path):
        return {}
    try:
        text = fs.read_text(path)
    except FileNotFoundError:  # removed between the check and the read
        return {}
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


def no_such_version(
    serving_dir: str | os.PathLike[str], model_name: str, version: int, versions: Mapping[int, str]
) -> str:
    """The message for a version that is not on disk, naming the ones that are."""
    where = fs.join(os.fspath(serving_dir), model_name)
    have = ", ".join(str(v) for v in versions) or "none"
    return f"version {version} of model {model_name!r} does not exist under {where} (versions: {have})"


def _render(serving_dir: str, served: Mapping[str, int]) -> str:
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    models = config.model_config_list
    for name, version in sorted(served.items()):
        model = models.config.add()
        model.name = name
        model.base_path = absolute(fs.join(serving_dir, name))
        model.model_platform = "tensorflow"
        model.model_version_policy.specific.versions.append(version)
        model.version_labels[STABLE_LABEL] = version
    return text_format.MessageToString(config)


def write_models_config(serving_dir: str | os.PathLike[str], *, pins: Mapping[str, int] | None = None) -> str:
    """Write ``<serving_dir>/models.config`` naming every model directory under ``serving_dir``.

    Each model serves one version (``specific`` policy) labelled ``stable``: the version in
    ``pins`` for that model, else the version models.config already serves (if it still
    exists), else the newest.

    Returns:
        the path of models.config.

    Raises:
        LayoutError: a pinned version does not exist.
    """
    serving_dir = os.fspath(serving_dir)
    with locked(serving_dir):
        served: dict[str, int] = {}
        for name in model_names(serving_dir):
            v = served_version(serving_dir, name)
            if v is not None:
                served[name] = v
        for name, version in (pins or {}).items():
            versions = version_dirs(serving_dir, name)
            if version not in versions:
                raise LayoutError(no_such_version(serving_dir, name, version, versions))
            served[name] = version
        path = fs.join(serving_dir, CONFIG_FILE)
        fs.write_text(path, _render(serving_dir, served))
    return path
