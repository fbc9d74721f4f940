"""``gs://`` paths over google-cloud-storage: the backend :mod:`components.filesystem` uses for them.

One client per process, built the way Google's libraries find credentials: Application Default
Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, or the
VM's service account), never a key from a config. With ``STORAGE_EMULATOR_HOST=http://host:port``
the same client talks to that emulator, anonymously. Nothing here reads or writes a credential.

GCS has objects, not folders: a "folder" is a name prefix, or a placeholder object ending in ``/``
(what the console and TensorFlow create for an empty folder; :func:`makedirs` writes one too). An
upload replaces one object whole, so a reader sees the old object or the new one, never half.

Errors are the standard library's: ``FileNotFoundError`` (no such object or bucket),
``PermissionError`` (access denied, or no credentials found), ``FileExistsError``, each naming
the path and what to do.
"""

from __future__ import annotations

import datetime
import fnmatch
import io
import os
import re
import threading
import warnings
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "ObjectStat",
    "bucket_exists",
    "client",
    "exists",
    "glob",
    "isdir",
    "isfile",
    "listdir",
    "makedirs",
    "open_read",
    "remove",
    "rename",
    "rmtree",
    "set_project",
    "split",
    "stat",
    "walk",
    "write_bytes",
]

# google-api-core warns on every import that Python 3.10 gets no more updates: not the user's to act on.
warnings.filterwarnings("ignore", message="You are using a non-supported Python version", category=FutureWarning)
_lock = threading.Lock()
_clients: dict[tuple[int, str | None], Any] = {}
_project: str | None = None
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ObjectStat:
    """What a fingerprint or a listing needs of one object (or folder: generation 0)."""

    length: int
    mtime_nsec: int
    generation: int
    md5: str


def set_project(project: str | None) -> None:
    """The project for billing and quota (``gcp.project``); None lets ADC decide."""
    global _project
    _project = project


def _no_credentials(exc: Exception) -> PermissionError:
    return PermissionError(
        f"no Google Cloud credentials found ({str(exc).splitlines()[0]}); run "
        f"`gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
        f"service-account key file (never put a key in the config)"
    )


def client() -> Any:
    """The process's storage client (a new one after a fork: a client's connections are not shared)."""
    key = (os.getpid(), _project)
    with _lock:
        if key not in _clients:
            from google.auth.exceptions import DefaultCredentialsError
            from google.cloud import storage

            try:
                _clients[key] = storage.Client(project=_project)
            except DefaultCredentialsError as exc:
                raise _no_credentials(exc) from exc
        return _clients[key]


def split(path: str) -> tuple[str, str]:
    """``gs://bucket/a/b`` -> ``("bucket", "a/b")``."""
    rest = str(path)[len("gs://") :]
    bucket, _, name = rest.partition("/")
    return bucket, name


def _translate(exc: Exception, path: str) -> Exception:
    """A storage/auth error as the OSError a caller handles, naming the path and the fix."""
    from google.api_core import exceptions as api
    from google.auth.exceptions import DefaultCredentialsError, RefreshError

    bucket = f"gs://{split(path)[0]}"
    if isinstance(exc, (DefaultCredentialsError, RefreshError)):
        return _no_credentials(exc)
    if isinstance(exc, api.NotFound):
        try:
            missing = not client().bucket(split(path)[0]).exists()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            missing = False
        if missing:
            return FileNotFoundError(
                f"{path}: bucket {bucket} does not exist; create it (`gcloud storage buckets create {bucket}`) "
                f"or fix the path"
            )
        return FileNotFoundError(f"{path}: no such object")
    if isinstance(exc, (api.Forbidden, api.Unauthorized)):
        return PermissionError(
            f"{path}: permission denied; the account of your Application Default Credentials needs "
            f"access to {bucket} (roles/storage.objectAdmin, or objectViewer to read)"
        )
    if isinstance(exc, api.PreconditionFailed):
        return FileExistsError(f"{path}: changed by someone else (generation precondition failed)")
    return OSError(f"{path}: {exc}")


def _call(path: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    from google.api_core import exceptions as api
    from google.auth.exceptions import GoogleAuthError

    try:
        return fn(*args, **kwargs)
    except (api.GoogleAPICallError, GoogleAuthError) as exc:
        raise _translate(exc, path) from exc


def _bucket(path: str) -> Any:
    return client().bucket(split(path)[0])


def _blobs(path: str, prefix: str, delimiter: str | None = None) -> tuple[list[Any], set[str]]:
    def run() -> tuple[list[Any], set[str]]:
        it = client().list_blobs(split(path)[0], prefix=prefix, delimiter=delimiter)
        blobs = list(it)
        return blobs, set(it.prefixes)

    return _call(path, run)


def _folder(name: str) -> str:
    return name.rstrip("/") + "/" if name.strip("/") else ""


def _bucket_exists(path: str) -> bool:
    return _call(path, _bucket(path).exists)


def exists(path: str) -> bool:
    """False for a missing object, folder or bucket (like ``os.path.exists``)."""
    try:
        return _exists(path)
    except FileNotFoundError:
        return False


def _exists(path: str) -> bool:
    _, name = split(path)
    if not name.strip("/"):
        return _bucket_exists(path)
    if not name.endswith("/") and _call(path, _bucket(path).blob(name).exists):
        return True
    return isdir(path)


def isdir(path: str) -> bool:
    _, name = split(path)
    if not name.strip("/"):
        return _bucket_exists(path)
    try:
        blobs, prefixes = _blobs(path, _folder(name), "/")
    except FileNotFoundError:  # no bucket
        return False
    return bool(blobs or prefixes)


def isfile(path: str) -> bool:
    _, name = split(path)
    if not name.strip("/") or name.endswith("/"):
        return False
    try:
        return _call(path, _bucket(path).blob(name).exists)
    except FileNotFoundError:
        return False


def bucket_exists(path: str) -> bool:
    """Whether the bucket of ``path`` exists (PermissionError when it cannot be known)."""
    return _bucket_exists(path)


def listdir(path: str) -> list[str]:
    """Names directly under the folder ``path`` (folders without a trailing ``/``), sorted."""
    _, name = split(path)
    prefix = _folder(name)
    blobs, prefixes = _blobs(path, prefix, "/")
    if not blobs and not prefixes and not _bucket_exists(path):
        raise FileNotFoundError(f"{path}: bucket gs://{split(path)[0]} does not exist; create it or fix the path")
    names = {b.name[len(prefix) :] for b in blobs} | {p[len(prefix) :].rstrip("/") for p in prefixes}
    return sorted(n for n in names if n)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\*|\?|\[[^\]]*\])", pattern):
        if piece == "*":
            out += "[^/]*"
        elif piece == "?":
            out += "[^/]"
        elif piece.startswith("[") and piece.endswith("]") and len(piece) > 2:
            out += fnmatch.translate(piece)[4:-3]  # fnmatch's own class syntax ([!...] too)
        else:
            out += re.escape(piece)
    return re.compile(out + r"/?\Z")


def glob(pattern: str) -> list[str]:
    """Objects and folders matching ``pattern`` (``*``, ``?``, ``[...]`` stay within one folder), sorted."""
    bucket, name = split(pattern)
    literal = re.split(r"[*?\[]", name, maxsplit=1)[0]
    blobs, _ = _blobs(pattern, literal)
    regex = _glob_regex(name)
    found: set[str] = set()
    for blob in blobs:
        parts = blob.name.rstrip("/").split("/")  # a folder placeholder is its folder
        for n in range(1, len(parts) + 1):  # the object, and every folder above it
            candidate = "/".join(parts[:n])
            if candidate and regex.match(candidate):
                found.add(f"gs://{bucket}/{candidate}")
    return sorted(found)


def walk(root: str) -> list[tuple[str, list[str], list[str]]]:
    """``(folder, subfolders, files)`` for every folder under ``root``, like ``os.walk``."""
    bucket, name = split(root)
    prefix = _folder(name)
    blobs, _ = _blobs(root, prefix)
    tree: dict[str, tuple[set[str], set[str]]] = {prefix.rstrip("/"): (set(), set())}
    for blob in blobs:
        parts = blob.name[len(prefix) :].split("/")
        folder = prefix.rstrip("/")
        for part in parts[:-1]:
            tree.setdefault(folder, (set(), set()))[0].add(part)
            folder = f"{folder}/{part}" if folder else part
            tree.setdefault(folder, (set(), set()))
        if parts[-1]:
            tree[folder][1].add(parts[-1])
    return [(f"gs://{bucket}/{f}".rstrip("/"), sorted(d), sorted(fl)) for f, (d, fl) in sorted(tree.items())]


def _nanos(when: datetime.datetime | None) -> int:
    return int(when.timestamp() * 1e9) if when is not None else 0


def stat(path: str) -> ObjectStat:
    """Size, update time, generation and MD5 of an object; a folder: its newest object's time."""
    _, name = split(path)
    blob = _call(path, _bucket(path).get_blob, name) if name and not name.endswith("/") else None
    if blob is not None:
        return ObjectStat(int(blob.size or 0), _nanos(blob.updated), int(blob.generation or 0), blob.md5_hash or "")
    blobs, _ = _blobs(path, _folder(name))
    if not blobs:
        raise FileNotFoundError(f"{path}: no such object or folder")
    return ObjectStat(0, max(_nanos(b.updated) for b in blobs), 0, "")


def makedirs(path: str) -> None:
    """A placeholder object ``<path>/`` so an empty folder exists (as the console and TF make one)."""
    _, name = split(path)
    if name.strip("/") and not isdir(path):
        _call(path, _bucket(path).blob(_folder(name)).upload_from_string, b"")


def open_read(path: str) -> IO[bytes]:
    """A buffered binary reader over the object, fetched in 8 MB ranges."""
    _, name = split(path)
    blob = _call(path, _bucket(path).get_blob, name)
    if blob is None:
        raise FileNotFoundError(f"{path}: no such object (does the path exist? check the name and bucket)")
    return _Reader(path, blob)


class _Reader(io.RawIOBase):
    """Ranged downloads of one generation of an object, as a raw stream ``io`` can buffer."""

    def __init__(self, path: str, blob: Any) -> None:
        self._path, self._blob, self._pos, self._size = path, blob, 0, int(blob.size or 0)
        self._generation = blob.generation  # a download may reset the blob's fields from its response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        end = min(self._pos + max(len(buffer), 1), self._size, self._pos + _CHUNK) - 1
        data = _call(
            self._path,
            self._blob.download_as_bytes,
            start=self._pos,
            end=end,
            if_generation_match=self._generation,
            raw_download=True,
        )
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def write_bytes(path: str, data: bytes, if_generation_match: int | None = None) -> int:
    """Upload ``data`` as one object (replaced whole); returns its new generation.

    ``if_generation_match``: 0 creates only if absent; N replaces only generation N (else FileExistsError).
    """
    _, name = split(path)
    blob = _bucket(path).blob(name)
    _call(path, blob.upload_from_string, data, if_generation_match=if_generation_match)
    return int(blob.generation or 0)


def remove(path: str) -> None:
    """Delete one object; FileNotFoundError when there is none."""
    _, name = split(path)
    _call(path, _bucket(path).blob(name).delete)


def rmtree(path: str) -> None:
    """Delete every object under the folder ``path`` (its placeholder too)."""
    _, name = split(path)
    blobs, _ = _blobs(path, _folder(name))
    for blob in blobs:
        _call(path, blob.delete)


def rename(src: str, dst: str, overwrite: bool = False) -> None:
    """Copy then delete, object by object (GCS has no rename): not atomic for a folder, so a
    reader must learn of the new name only afterwards (models.config is written after the push)."""
    s_bucket, s_name = split(src)
    d_bucket, d_name = split(dst)
    if not overwrite and exists(dst):
        raise FileExistsError(f"{dst} exists")
    source, target = client().bucket(s_bucket), client().bucket(d_bucket)
    single = source.get_blob(s_name) if s_name and not s_name.endswith("/") else None
    if single is not None:
        pairs = [(single, d_name)]
    else:
        prefix = _folder(s_name)
        blobs, _ = _blobs(src, prefix)
        if not blobs:
            raise FileNotFoundError(f"{src}: no such object or folder")
        pairs = [(b, _folder(d_name) + b.name[len(prefix) :]) for b in blobs]
    for blob, new_name in pairs:
        _call(dst, source.copy_blob, blob, target, new_name)
    for blob, _ in pairs:
        _call(src, blob.delete)
