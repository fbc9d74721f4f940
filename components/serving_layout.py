"""The push contract: how models are laid out for TensorFlow Serving, and how a version is served.

    <serving_dir>/
        models.config                 text ModelServerConfig: each model, its base_path, the served
                                      version (``specific`` policy) and the ``stable`` label
        <model_name>/
            <version>/                SavedModel (+ assets.extra/: eval_metrics.json, warm-up requests)
            .incoming-<v>-<pid>/      a push in progress (TF Serving ignores non-integer names)

A version appears under its integer name only through ``os.rename`` of a complete copy, so a
server polling the directory never loads half a model. Every change to the layout holds an
exclusive lock on ``<serving_dir>/.lock``, so two pushes (or a push and a rollback) never
interleave. Pure Python and protobuf: cheap to import, usable from any process; only
:func:`write_warmup_requests` loads TensorFlow.

Example:
    >>> version, path = publish_version("runs/x/Trainer/model/6/Format-Serving", "serving", "ad_click")
    >>> prune("serving", "ad_click", keep=5)
    >>> write_models_config("serving", pins={"ad_click": version})
    >>> rollback("serving", "ad_click")          # serve the previous version again
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence, Union

__all__ = [
    "CONFIG_FILE",
    "EVAL_METRICS_FILE",
    "STABLE_LABEL",
    "WARMUP_FILE",
    "LayoutError",
    "ModelEntry",
    "VersionInfo",
    "list_versions",
    "publish_version",
    "prune",
    "read_models_config",
    "rollback",
    "served_version",
    "version_dirs",
    "write_models_config",
    "write_warmup_requests",
]

CONFIG_FILE = "models.config"
STABLE_LABEL = "stable"
EXTRA_DIR = "assets.extra"
EVAL_METRICS_FILE = "eval_metrics.json"
WARMUP_FILE = "tf_serving_warmup_requests"  # the name TF Serving looks for in assets.extra/
_INCOMING = ".incoming-"
_DELETING = ".deleting-"
_LOCK_FILE = ".lock"

ExtraFile = Union[bytes, str, os.PathLike]


class LayoutError(ValueError):
    """The serving directory does not allow what was asked (no such version, nothing to roll back to...)."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of models.config."""

    name: str
    base_path: str
    versions: tuple[int, ...]  # the ``specific`` policy; empty means TF Serving's default (latest)
    labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionInfo:
    """One version directory of a model, as :func:`list_versions` reports it."""

    version: int
    path: str
    served: bool
    labels: tuple[str, ...]
    metrics: Mapping[str, float]
    pushed_at: float  # seconds since the epoch (directory mtime)


# --------------------------------------------------------------------------- reading the layout


def version_dirs(serving_dir: str | os.PathLike[str], model_name: str) -> dict[int, str]:
    """``{version: path}`` of the integer-named directories under ``<serving_dir>/<model_name>``."""
    base = os.path.join(serving_dir, model_name)
    found: dict[int, str] = {}
    try:
        names = os.listdir(base)
    except (FileNotFoundError, NotADirectoryError):
        return found
    for name in names:
        path = os.path.join(base, name)
        if name.isdigit() and os.path.isdir(path):
            found[int(name)] = path
    return dict(sorted(found.items()))


def read_models_config(serving_dir: str | os.PathLike[str]) -> dict[str, ModelEntry]:
    """The models in ``<serving_dir>/models.config`` by name; ``{}`` when there is no file.

    Raises:
        LayoutError: the file exists but is not a text ModelServerConfig.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = os.path.join(serving_dir, CONFIG_FILE)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as exc:
        raise LayoutError(f"{path} is not a valid ModelServerConfig ({exc}); "
                          f"delete it and run `python -m pipelines.push rollback --to VERSION` "
                          f"to write a fresh one") from exc
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


def _read_metrics(version_path: str) -> dict[str, float]:
    path = os.path.join(version_path, EXTRA_DIR, EVAL_METRICS_FILE)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
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
    served = served_version(serving_dir, model_name)
    entry = read_models_config(serving_dir).get(model_name)
    labels_by_version: dict[int, list[str]] = {}
    if entry is not None:
        for label, v in sorted(entry.labels.items()):
            labels_by_version.setdefault(v, []).append(label)
    return [
        VersionInfo(
            version=v,
            path=path,
            served=v == served,
            labels=tuple(labels_by_version.get(v, [])),
            metrics=_read_metrics(path),
            pushed_at=os.path.getmtime(path),
        )
        for v, path in versions.items()
    ]


# --------------------------------------------------------------------------- changing the layout


@contextlib.contextmanager
def _locked(serving_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Exclusive lock over the serving directory (released by the kernel if the process dies)."""
    os.makedirs(serving_dir, exist_ok=True)
    with open(os.path.join(serving_dir, _LOCK_FILE), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(model_dir: str) -> None:
    """Remove partial copies and half-deleted versions of interrupted pushes and prunes.

    Only called with the lock held: no other push can be writing one of them right now.
    """
    try:
        names = os.listdir(model_dir)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith((_INCOMING, _DELETING)):
            shutil.rmtree(os.path.join(model_dir, name), ignore_errors=True)


def _write_extra(directory: str, name: str, content: ExtraFile) -> None:
    if "/" in name or name in ("", ".", ".."):
        raise LayoutError(f"extra file name {name!r} must be a plain file name")
    target = os.path.join(directory, name)
    if isinstance(content, bytes):
        Path(target).write_bytes(content)
    elif isinstance(content, str):
        Path(target).write_text(content, encoding="utf-8")
    else:
        shutil.copyfile(os.fspath(content), target)


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
    _check_name(model_name)
    src = os.fspath(saved_model_dir)
    if not os.path.isfile(os.path.join(src, "saved_model.pb")):
        raise LayoutError(f"{src} holds no saved_model.pb; pass the SavedModel directory "
                          f"(a Trainer model's <uri>/Format-Serving)")
    model_dir = os.path.join(serving_dir, model_name)
    with _locked(serving_dir):
        os.makedirs(model_dir, exist_ok=True)
        _remove_leftovers(model_dir)
        existing = version_dirs(serving_dir, model_name)
        if version is None:
            version = max(int(time.time()), max(existing, default=0) + 1)
        elif version in existing:
            raise LayoutError(f"version {version} already exists at {existing[version]}; "
                              f"versions are never overwritten")
        elif version < 0:
            raise LayoutError(f"version must be a non-negative integer, got {version}")
        incoming = os.path.join(model_dir, f"{_INCOMING}{version}-{os.getpid()}")
        final = os.path.join(model_dir, str(version))
        try:
            shutil.copytree(src, incoming)
            if extra_files:
                extra = os.path.join(incoming, EXTRA_DIR)
                os.makedirs(extra, exist_ok=True)
                for name, content in extra_files.items():
                    _write_extra(extra, name, content)
            os.rename(incoming, final)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
    return version, final


def prune(serving_dir: str | os.PathLike[str], model_name: str, keep: int) -> list[int]:
    """Delete all but the newest ``keep`` versions, never the one models.config serves.

    A version is renamed to a non-integer name before it is deleted, so a server never
    sees a half-deleted version. Returns the versions removed.
    """
    _check_name(model_name)
    if keep < 1:
        raise LayoutError(f"keep must be at least 1, got {keep}")
    removed = []
    with _locked(serving_dir):
        versions = version_dirs(serving_dir, model_name)
        protected = {served_version(serving_dir, model_name)}
        protected.update(sorted(versions)[-keep:])
        for v, path in versions.items():
            if v in protected:
                continue
            doomed = os.path.join(os.path.dirname(path), f"{_DELETING}{v}-{os.getpid()}")
            os.rename(path, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
            removed.append(v)
    return removed


def _model_dirs(serving_dir: str | os.PathLike[str]) -> list[str]:
    try:
        names = sorted(os.listdir(serving_dir))
    except FileNotFoundError:
        return []
    return [n for n in names if not n.startswith(".") and version_dirs(serving_dir, n)]


def _write_config(serving_dir: str | os.PathLike[str], served: Mapping[str, int]) -> str:
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    models = config.model_config_list
    for name, version in sorted(served.items()):
        model = models.config.add()
        model.name = name
        model.base_path = os.path.abspath(os.path.join(serving_dir, name))
        model.model_platform = "tensorflow"
        model.model_version_policy.specific.versions.append(version)
        model.version_labels[STABLE_LABEL] = version
    path = os.path.join(serving_dir, CONFIG_FILE)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text_format.MessageToString(config))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def write_models_config(serving_dir: str | os.PathLike[str], *, pins: Mapping[str, int] | None = None) -> str:
    """Write ``<serving_dir>/models.config`` naming every model directory under ``serving_dir``.

    Each model serves one version (``specific`` policy) labelled ``stable``: the version in
    ``pins`` for that model, else the version models.config already serves (if it still
    exists), else the newest. Written to a temporary file and renamed: a polling server
    reads the old file or the new one, never half of one.

    Returns:
        the path of models.config.

    Raises:
        LayoutError: a pinned version does not exist.
    """
    with _locked(serving_dir):
        served: dict[str, int] = {}
        for name in _model_dirs(serving_dir):
            v = served_version(serving_dir, name)
            if v is not None:
                served[name] = v
        for name, version in (pins or {}).items():
            versions = version_dirs(serving_dir, name)
            if version not in versions:
                raise LayoutError(_no_such_version(serving_dir, name, version, versions))
            served[name] = version
        return _write_config(serving_dir, served)


def _no_such_version(serving_dir: str | os.PathLike[str], model_name: str, version: int,
                     versions: Mapping[int, str]) -> str:
    where = os.path.join(serving_dir, model_name)
    have = ", ".join(str(v) for v in versions) or "none"
    return f"version {version} of model {model_name!r} does not exist under {where} (versions: {have})"


def rollback(serving_dir: str | os.PathLike[str], model_name: str, to: int | None = None) -> tuple[int, int | None]:
    """Serve an earlier version (or the named one) by pinning it in models.config.

    Returns:
        ``(version now served, version served before)``.

    Raises:
        LayoutError: the model has no versions, ``to`` does not exist, or there is no
            version older than the served one.
    """
    versions = version_dirs(serving_dir, _check_name(model_name))
    where = os.path.join(serving_dir, model_name)
    if not versions:
        raise LayoutError(f"model {model_name!r} has no versions under {where}; nothing to roll back")
    current = served_version(serving_dir, model_name)
    if to is None:
        older = [v for v in versions if current is not None and v < current]
        if not older:
            raise LayoutError(f"version {current} is the oldest version of model {model_name!r} under "
                              f"{where}; there is nothing older to roll back to")
        to = max(older)
    elif to not in versions:
        raise LayoutError(_no_such_version(serving_dir, model_name, to, versions))
    write_models_config(serving_dir, pins={model_name: to})
    return to, current


# --------------------------------------------------------------------------- warm-up requests


def write_warmup_requests(
    path: str | os.PathLike[str],
    model_name: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    dtypes: Mapping[str, str] | None = None,
    batch_size: int | None = None,
    signature_name: str = "serving_default",
) -> int:
    """Write TF Serving warm-up requests: a TFRecord of ``PredictionLog`` (``predict_log.request``).

    Each request holds one ``[batch]`` tensor per raw column. TF Serving replays the file,
    found at ``<version>/assets.extra/tf_serving_warmup_requests``, before serving a version.

    Args:
        path: the file to write.
        model_name: ``model_spec.name`` of the requests.
        rows: raw rows, ``{column: value}``; every row has the same columns.
        dtypes: ``{column: TF dtype name}`` (e.g. the signature's, ``"float32"``); default from
            the Python values (float -> float32, int -> int64, str/bytes -> string).
        batch_size: rows per request; default all rows in one request.
        signature_name: the signature the requests call.

    Returns:
        the number of requests written.
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    if not rows:
        raise LayoutError("no rows to write as warm-up requests")
    columns = list(rows[0])
    batch = batch_size or len(rows)
    if batch < 1:
        raise LayoutError(f"batch_size must be at least 1, got {batch_size}")

    def dtype_of(column: str) -> str:
        if dtypes and column in dtypes:
            return dtypes[column]
        value = rows[0][column]
        if isinstance(value, (str, bytes)):
            return "string"
        return "int64" if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else "float32"

    kinds = {c: dtype_of(c) for c in columns}
    written = 0
    with tf.io.TFRecordWriter(os.fspath(path)) as writer:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
            for column in columns:
                values = [r[column] for r in chunk]
                if kinds[column] == "string":
                    values = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]
                    array = np.array(values, dtype=object)
                else:
                    array = np.array(values, dtype=kinds[column])
                request.inputs[column].CopyFrom(tf.make_tensor_proto(array, dtype=kinds[column]))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
            written += 1
    return written


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise LayoutError(f"model name {name!r} must hold only letters, digits, '_', '.' or '-'")
    return name
