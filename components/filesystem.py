"""The one filesystem seam: every read, list, write and delete of a path that may be remote.

Local paths use the standard library (no import cost); ``gs://`` paths go through
google-cloud-storage (:mod:`components.gcs`: Application Default Credentials, or the emulator named by
``STORAGE_EMULATOR_HOST``), and TFX's ``fileio`` reaches them through the same client
(:mod:`components.gcs_fileio`); any other scheme (``ram://``...) goes through TensorFlow's filesystems
(``tf.io.gfile``). Each is imported only when such a path is touched. Code above this module never
branches on the scheme.

Writes are atomic: :func:`write_bytes` / :func:`write_text` write a uniquely named temporary
file in the target's directory, flush and fsync it, then rename it over the target, so a
reader sees the old content or the new, never half of it, and concurrent writers never share
a temporary name.

Example:
    >>> from components import filesystem as fs
    >>> fs.write_text("runs/x/summary.json", "{}")
    >>> fs.read_text("runs/x/summary.json")
    '{}'
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob as _glob
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import IO, Any

__all__ = [
    "atomic_writer",
    "basename",
    "copy",
    "dirname",
    "exists",
    "fingerprint",
    "glob",
    "is_remote",
    "isdir",
    "isfile",
    "join",
    "listdir",
    "local_copy",
    "makedirs",
    "mtime_ns",
    "open_file",
    "read_bytes",
    "read_text",
    "remove",
    "rename",
    "rmtree",
    "size",
    "walk_files",
    "write_bytes",
    "write_text",
]


def is_remote(path: str) -> bool:
    """True for ``scheme://...`` paths (``gs://``); False for local paths."""
    return "://" in str(path)


def _remote(path: str) -> Any:
    """The backend of a remote ``path``: :mod:`components.gcs` for ``gs://``, else TensorFlow's."""
    if str(path).startswith("gs://"):
        from components import gcs

        return SimpleNamespace(
            exists=gcs.exists,
            isdir=gcs.isdir,
            isfile=gcs.isfile,
            listdir=gcs.listdir,
            glob=gcs.glob,
            walk=gcs.walk,
            stat=gcs.stat,
            makedirs=gcs.makedirs,
            open=lambda p, mode: gcs.open_read(p),
            rename=gcs.rename,
            remove=gcs.remove,
            rmtree=gcs.rmtree,
            write=gcs.write_bytes,
            NotFoundError=FileNotFoundError,
        )
    return _tensorflow()


def _tensorflow() -> Any:
    """TensorFlow's filesystems (``tf.io.gfile``: gs:// and the others TF registers), which TFX's own
    ``fileio`` also uses; imported only when a remote path is touched. A serving host has TensorFlow
    but not TFX, so the seam depends on TensorFlow alone."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # as components/__init__.py: before TensorFlow loads
    import tensorflow as tf

    gfile = tf.io.gfile
    return SimpleNamespace(
        exists=gfile.exists,
        isdir=gfile.isdir,
        isfile=lambda p: gfile.exists(p) and not gfile.isdir(p),
        listdir=gfile.listdir,
        glob=gfile.glob,
        walk=gfile.walk,
        stat=gfile.stat,
        makedirs=gfile.makedirs,
        open=gfile.GFile,
        rename=gfile.rename,
        remove=gfile.remove,
        rmtree=gfile.rmtree,
        write=None,
        NotFoundError=tf.errors.NotFoundError,
    )


class _RemoteReader(io.RawIOBase):
    """A remote file handle (GFile) as a raw stream, so ``io`` can buffer and decode it."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


def join(path: str, *parts: str) -> str:
    """``os.path.join`` for local paths, ``/`` for remote ones."""
    if is_remote(path):
        return "/".join([str(path).rstrip("/"), *(p.strip("/") for p in parts)])
    return os.path.join(path, *parts)


def dirname(path: str) -> str:
    """The folder part of ``path``: ``os.path.dirname`` locally, up to the last ``/`` remotely."""
    if is_remote(path):
        head, _, _ = str(path).rstrip("/").rpartition("/")
        return head if "://" in head else str(path).rstrip("/")
    return os.path.dirname(path)


def basename(path: str) -> str:
    """The last part of ``path`` (a file or folder name)."""
    return str(path).rstrip("/").rsplit("/", 1)[-1] if is_remote(path) else os.path.basename(path)


def exists(path: str) -> bool:
    return _remote(path).exists(path) if is_remote(path) else os.path.exists(path)


def isdir(path: str) -> bool:
    return _remote(path).isdir(path) if is_remote(path) else os.path.isdir(path)


def isfile(path: str) -> bool:
    return _remote(path).isfile(path) if is_remote(path) else os.path.isfile(path)


def listdir(path: str) -> list[str]:
    """Entry names (not paths) in ``path``, sorted."""
    if is_remote(path):
        return sorted(name.rstrip("/") for name in _remote(path).listdir(path))
    return sorted(os.listdir(path))


def glob(pattern: str) -> list[str]:
    """Paths matching a glob pattern (``*`` and ``?`` stay within one folder), sorted."""
    if is_remote(pattern):
        return sorted(_remote(pattern).glob(pattern))
    return sorted(_glob.glob(pattern))


def walk_files(root: str, pattern: str = "*") -> list[str]:
    """Every file under ``root`` (recursively) whose name matches ``pattern``, sorted."""
    found: list[str] = []
    if is_remote(root):
        for folder, _, files in _remote(root).walk(root):
            found += [join(folder, f) for f in files if fnmatch.fnmatch(f, pattern)]
        return sorted(found)
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if fnmatch.fnmatch(f, pattern)]
    return sorted(found)


def size(path: str) -> int:
    return _remote(path).stat(path).length if is_remote(path) else os.path.getsize(path)


def mtime_ns(path: str) -> int:
    """Modification time in nanoseconds (what CsvExampleGen's input fingerprint uses)."""
    return int(_remote(path).stat(path).mtime_nsec) if is_remote(path) else os.stat(path).st_mtime_ns


def fingerprint(path: str) -> str:
    """What identifies this content of a file without reading it: ``gs://`` objects by generation
    and MD5 (a rewrite with the same bytes is a new generation), local files by size and mtime."""
    if str(path).startswith("gs://"):
        info = _remote(path).stat(path)
        return f"gen={info.generation}|md5={info.md5}|size={info.length}"
    return f"size={size(path)}|mtime_ns={mtime_ns(path)}"


def local_copy(path: str, cache_dir: str | None = None) -> str:
    """A local folder holding the tree at ``path``: ``path`` itself when local, else a download
    into ``cache_dir`` (default ``$TMPDIR/declarative-tfx-cache``) under a name derived from the
    path and every object's generation, so a changed tree is fetched again and an unchanged one
    is not. For readers that cannot open ``gs://`` themselves (TensorFlow against an emulator).
    """
    import hashlib

    if not is_remote(path):
        return path
    files = walk_files(path)
    key = hashlib.sha256(str(path).encode())
    for f in files:
        key.update(f"{f}|{fingerprint(f)}".encode())
    target = os.path.join(
        cache_dir or os.path.join(tempfile.gettempdir(), "declarative-tfx-cache"), key.hexdigest()[:24]
    )
    if os.path.isdir(target):
        return target
    staging = f"{target}.{uuid.uuid4().hex}.partial"
    for f in files:
        write_bytes(os.path.join(staging, f[len(str(path).rstrip("/")) + 1 :]), read_bytes(f))
    os.makedirs(staging, exist_ok=True)
    try:
        os.rename(staging, target)  # whole or not at all; a concurrent download of the same tree wins
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def makedirs(path: str) -> None:
    """Create ``path`` and its parents; no error when it exists."""
    if is_remote(path):
        _remote(path).makedirs(path)
    else:
        os.makedirs(path, exist_ok=True)


def open_file(path: str, mode: str = "r", encoding: str | None = "utf-8", newline: str | None = None) -> IO[Any]:
    """Open for reading (``r``/``rb``) or appending (``a``/``ab``, local only); writes go through
    :func:`write_bytes`/:func:`write_text`, which are atomic."""
    if any(m in mode for m in "wx+"):
        raise ValueError(f"open_file({path!r}, {mode!r}): write through write_text/write_bytes, which are atomic")
    if is_remote(path):
        if "a" in mode:
            raise ValueError(f"{path}: appending is not supported on remote storage")
        import io

        buffered = io.BufferedReader(_RemoteReader(_remote(path).open(path, "rb")))
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", newline=newline)
    if "b" in mode:
        return open(path, mode)
    return open(path, mode, encoding=encoding, newline=newline)


def read_bytes(path: str) -> bytes:
    with open_file(path, "rb") as fh:
        return fh.read()


def read_text(path: str, encoding: str = "utf-8") -> str:
    return read_bytes(path).decode(encoding)


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (parents created)."""
    path = str(path)
    if is_remote(path):
        remote = _remote(path)
        if remote.write is not None:  # one object, replaced whole: atomic as it is
            remote.write(path, data)
            return
        parent = path.rsplit("/", 1)[0]
        remote.makedirs(parent)
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        with remote.open(tmp, "wb") as fh:
            fh.write(data)
        remote.rename(tmp, path, overwrite=True)
        return
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_writer(path: str, encoding: str = "utf-8", newline: str | None = None) -> Iterator[IO[str]]:
    """A text file written piece by piece that appears at ``path`` whole or not at all (local paths:
    a unique temporary name in the same folder, fsync, rename; remote: buffered, then one write)."""
    path = str(path)
    if is_remote(path):
        buffer = io.StringIO(newline=newline)
        yield buffer
        write_text(path, buffer.getvalue(), encoding)
        return
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (parents created)."""
    write_bytes(path, text.encode(encoding))


def copy(src: str, dst: str) -> None:
    """Copy one file; the destination appears whole or not at all."""
    if is_remote(src) or is_remote(dst):
        write_bytes(dst, read_bytes(src))
        return
    parent = os.path.dirname(os.path.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(dst)}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        shutil.copymode(src, tmp)  # mkstemp makes 0600; a model server running as another user must read it
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def rename(src: str, dst: str, overwrite: bool = False) -> None:
    """Rename a file or directory (atomic on one local filesystem)."""
    if is_remote(src) or is_remote(dst):
        _remote(src).rename(src, dst, overwrite=overwrite)
    elif overwrite:
        os.replace(src, dst)
    else:
        if os.path.exists(dst):
            raise FileExistsError(dst)
        os.rename(src, dst)


def remove(path: str) -> None:
    """Delete one file; no error when it is already gone."""
    if is_remote(path):
        remote = _remote(path)
        with contextlib.suppress(remote.NotFoundError):
            remote.remove(path)
        return
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def rmtree(path: str) -> None:
    """Delete a directory tree; no error when it is already gone."""
    if is_remote(path):
        if _remote(path).exists(path):
            _remote(path).rmtree(path)
    else:
        if os.path.exists(path):
            shutil.rmtree(path)
