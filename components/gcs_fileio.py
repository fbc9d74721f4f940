"""TFX's ``fileio`` on ``gs://`` through :mod:`components.gcs`: the client the rest of the code uses.

TFX's drivers and executors read and write through ``tfx.dsl.io.fileio``, which by default sends
``gs://`` to TensorFlow's filesystem. TensorFlow's GCS client has its endpoint built in, so it
cannot reach an emulator, and it is a second way to the same bucket. :func:`register` puts this
plugin ahead of it for ``gs://`` (priority 5; TensorFlow's is 10, lower wins), in every process
that builds a pipeline. It reaches real GCS exactly as the rest of the framework does: with
Application Default Credentials, through google-cloud-storage.

TensorFlow's own reads and writes (SavedModels, the transform graph, TFRecords written by TF ops)
still go through TensorFlow: on real GCS they work as always; against an emulator they cannot.
"""

from __future__ import annotations

import io
import os
from typing import Any

from tfx.dsl.io import filesystem, filesystem_registry

from components import gcs

__all__ = ["GcsFilesystem", "register"]

PRIORITY = 5


class _Writer(io.BytesIO):
    """Bytes collected in memory and uploaded as one object on close (GCS replaces objects whole)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def close(self) -> None:
        if not self.closed:
            gcs.write_bytes(self._path, self.getvalue())
        super().close()


class _TextWriter(io.TextIOWrapper):
    def __init__(self, path: str) -> None:
        super().__init__(_Writer(path), encoding="utf-8")


class GcsFilesystem(filesystem.Filesystem):
    """``tfx.dsl.io.filesystem.Filesystem`` for ``gs://`` over google-cloud-storage."""

    SUPPORTED_SCHEMES = ["gs://"]  # noqa: RUF012 - TFX's class attribute

    @staticmethod
    def open(name: Any, mode: str = "r") -> Any:
        path = os.fsdecode(name)
        if "r" in mode:
            raw = io.BufferedReader(gcs.open_read(path))
            return raw if "b" in mode else io.TextIOWrapper(raw, encoding="utf-8")
        if "a" in mode or "+" in mode:
            raise filesystem.NotFoundError(f"{path}: appending is not supported on gs://")
        return _Writer(path) if "b" in mode else _TextWriter(path)

    @staticmethod
    def copy(src: Any, dst: Any, overwrite: bool = False) -> None:
        src, dst = os.fsdecode(src), os.fsdecode(dst)
        if not overwrite and gcs.exists(dst):
            raise OSError(f"{dst} exists")
        with gcs.open_read(src) as fh:
            gcs.write_bytes(dst, fh.read())

    @staticmethod
    def exists(path: Any) -> bool:
        return gcs.exists(os.fsdecode(path))

    @staticmethod
    def glob(pattern: Any) -> list[Any]:
        return gcs.glob(os.fsdecode(pattern))

    @staticmethod
    def isdir(path: Any) -> bool:
        return gcs.isdir(os.fsdecode(path))

    @staticmethod
    def listdir(path: Any) -> list[Any]:
        return gcs.listdir(os.fsdecode(path))

    @staticmethod
    def makedirs(path: Any) -> None:
        gcs.makedirs(os.fsdecode(path))

    @staticmethod
    def mkdir(path: Any) -> None:
        gcs.makedirs(os.fsdecode(path))

    @staticmethod
    def remove(path: Any) -> None:
        try:
            gcs.remove(os.fsdecode(path))
        except FileNotFoundError as exc:
            raise filesystem.NotFoundError(str(exc)) from exc

    @staticmethod
    def rename(src: Any, dst: Any, overwrite: bool = False) -> None:
        gcs.rename(os.fsdecode(src), os.fsdecode(dst), overwrite=overwrite)

    @staticmethod
    def rmtree(path: Any) -> None:
        path = os.fsdecode(path)
        if not gcs.isdir(path):
            raise filesystem.NotFoundError(f"{path}: no such folder")
        gcs.rmtree(path)

    @staticmethod
    def stat(path: Any) -> Any:
        try:
            return gcs.stat(os.fsdecode(path))
        except FileNotFoundError as exc:
            raise filesystem.NotFoundError(str(exc)) from exc

    @staticmethod
    def walk(top: Any, topdown: bool = True, onerror: Any = None) -> Any:
        found = gcs.walk(os.fsdecode(top))
        yield from found if topdown else reversed(found)


def register() -> None:
    """Send TFX's ``gs://`` reads and writes through :class:`GcsFilesystem` (idempotent).

    Under an emulator (``STORAGE_EMULATOR_HOST`` set) only, Beam is also told there are no
    credentials to look for: without any on the machine, its lookup retries for about 24 s per
    process before going anonymous, which is what the emulator needs anyway.
    """
    filesystem_registry.DEFAULT_FILESYSTEM_REGISTRY.register(GcsFilesystem, priority=PRIORITY)
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from apache_beam.internal.gcp import auth

        with auth._Credentials._credentials_lock:  # Beam's own anonymous fallback, taken at once
            auth._Credentials._credentials = None
            auth._Credentials._credentials_init = True
