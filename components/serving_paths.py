"""Names and rules of the serving directory, shared by the other ``serving_*`` modules.

    <serving_dir>/
        models.config                 CONFIG_FILE
        .lock                         the layout lock (an flock locally, a lock object on gs://)
        <model_name>/                 check_name: letters, digits, '_', '.', '-'
            <version>/                an integer name: what TF Serving loads
                assets.extra/         EXTRA_DIR: EVAL_METRICS_FILE, WARMUP_FILE
            .incoming-<v>-<pid>/      INCOMING: a push in progress
            .deleting-<v>-<pid>/      DELETING: a pruned version being removed

Every path goes through :mod:`components.filesystem`, so a serving dir may be local or
``gs://``. Imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator

from components import filesystem as fs

__all__ = [
    "CONFIG_FILE",
    "DELETING",
    "EVAL_METRICS_FILE",
    "EXTRA_DIR",
    "INCOMING",
    "STABLE_LABEL",
    "WARMUP_FILE",
    "LayoutError",
    "absolute",
    "check_name",
    "locked",
    "model_names",
    "version_dirs",
    "versions_in",
]

CONFIG_FILE = "models.config"
STABLE_LABEL = "stable"
EXTRA_DIR = "assets.extra"
EVAL_METRICS_FILE = "eval_metrics.json"
WARMUP_FILE = "tf_serving_warmup_requests"  # the name TF Serving looks for in assets.extra/
INCOMING = ".incoming-"
DELETING = ".deleting-"
_LOCK_FILE = ".lock"
# A gs:// lock older than this is taken to be left by a push that died (a push of a few hundred MB
# takes well under this); waiting for a live one gives up after LOCK_WAIT_SECONDS.
LOCK_STALE_SECONDS = 900.0
LOCK_WAIT_SECONDS = 600.0


class LayoutError(ValueError):
    """The serving directory does not allow what was asked (no such version, nothing to roll back to...).

    Raised inside ``components`` (which never imports ``pipelines``); the commands wrap it as
    ``pipelines.errors.ServingError`` with the cause kept.
    """


def check_name(name: str) -> str:
    """``name`` if it is a safe model directory name, else :class:`LayoutError`."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise LayoutError(f"model name {name!r} must hold only letters, digits, '_', '.' or '-'")
    return name


def absolute(path: str | os.PathLike[str]) -> str:
    """An absolute local path, or a remote one unchanged (``gs://`` paths are absolute already)."""
    path = os.fspath(path)
    return path if fs.is_remote(path) else os.path.abspath(path)


def versions_in(model_dir: str | os.PathLike[str]) -> dict[int, str]:
    """``{version: path}`` of the integer-named directories in ``model_dir``, oldest first."""
    model_dir = os.fspath(model_dir)
    if not fs.isdir(model_dir):
        return {}
    found: dict[int, str] = {}
    for name in fs.listdir(model_dir):
        path = fs.join(model_dir, name)
        if name.isdigit() and fs.isdir(path):
            found[int(name)] = path
    return dict(sorted(found.items()))


def version_dirs(serving_dir: str | os.PathLike[str], model_name: str) -> dict[int, str]:
    """``{version: path}`` of the integer-named directories under ``<serving_dir>/<model_name>``."""
    return versions_in(fs.join(os.fspath(serving_dir), model_name))


def model_names(serving_dir: str | os.PathLike[str]) -> list[str]:
    """The model directories under ``serving_dir`` that hold at least one version, sorted."""
    serving_dir = os.fspath(serving_dir)
    if not fs.isdir(serving_dir):
        return []
    return [n for n in fs.listdir(serving_dir) if not n.startswith(".") and version_dirs(serving_dir, n)]


@contextlib.contextmanager
def locked(serving_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive layout lock of ``serving_dir`` (created if missing).

    Local: an ``fcntl.flock`` on ``<serving_dir>/.lock``, released by the kernel if the process
    dies, so two pushes (or a push and a rollback) on one machine never interleave.

    ``gs://`` (no flock on an object store): the lock is the object ``<serving_dir>/.lock``,
    created only if absent (generation precondition ``if_generation_match=0``, so of two pushes
    racing to create it exactly one wins, on any number of machines) and deleted on release
    only if it is still the generation this holder created. A lock older than
    ``LOCK_STALE_SECONDS`` was left by a push that died: it is deleted (by generation, so two
    waiters cannot both take it over) and the wait goes on. Waiting longer than
    ``LOCK_WAIT_SECONDS`` raises :class:`LayoutError` naming the holder.
    """
    serving_dir = os.fspath(serving_dir)
    if str(serving_dir).startswith("gs://"):
        with _object_lock(fs.join(serving_dir, _LOCK_FILE)):
            yield
        return
    fs.makedirs(serving_dir)
    import fcntl  # POSIX only; a local lock, never a remote one

    with fs.open_file(fs.join(serving_dir, _LOCK_FILE), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _object_lock(path: str, wait_seconds: float | None = None, stale_seconds: float | None = None) -> Iterator[None]:
    from components import gcs, gcs_generations

    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    stale = LOCK_STALE_SECONDS if stale_seconds is None else stale_seconds
    owner = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex})
    deadline, delay = time.monotonic() + wait, 0.05
    while True:
        generation = gcs_generations.create_if_absent(path, owner.encode())
        if generation is not None:
            break
        held = gcs_generations.read_generation(path)
        if held is not None:
            try:
                age = time.time() - gcs.stat(path).mtime_nsec / 1e9
            except FileNotFoundError:  # released meanwhile
                continue
            if age > stale:
                gcs_generations.delete_if_generation(path, held[1])  # the dead holder's lock; we still race to create
                continue
        if time.monotonic() > deadline:
            holder = held[0].decode(errors="replace") if held else "?"
            raise LayoutError(
                f"{path} is held by another push ({holder}) for over {wait:.0f} s; if that push died, "
                f"delete {path} (it is taken over by itself after {stale:.0f} s)"
            )
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    try:
        yield
    finally:
        gcs_generations.delete_if_generation(path, generation)
