"""Generation-guarded object operations on ``gs://``: what serialises writers without a file lock.

Every GCS object has a generation, a number that changes with each write. A request can be made
conditional on it: ``if_generation_match=0`` creates only if no object has the name, ``=N``
replaces or deletes only generation N. Two writers racing on one name get one success and one
412 (here: ``None`` or ``False``), on any number of machines. Used by the serving directory's
lock (:func:`components.serving_paths.locked`).

Note: ``gcp-storage-emulator`` ignores these preconditions (it answers 200 where GCS answers 412);
:func:`create_if_absent` also checks for the object first, so against the emulator only writers
that do not start within the same few milliseconds are kept apart.
"""

from __future__ import annotations

from components.gcs import _bucket, _call, _translate, isfile, split, write_bytes

__all__ = ["create_if_absent", "delete_if_generation", "read_generation"]


def create_if_absent(path: str, data: bytes) -> int | None:
    """Create the object only if no object has that name: its generation, or None when it exists.

    The generation precondition (``if_generation_match=0``) decides a race between two creators
    on GCS; the existence check before it covers a store that ignores preconditions.
    """
    if isfile(path):
        return None
    try:
        return write_bytes(path, data, if_generation_match=0)
    except FileExistsError:
        return None


def delete_if_generation(path: str, generation: int) -> bool:
    """Delete the object only if it is still ``generation``; False if it changed or is gone."""
    from google.api_core import exceptions as api

    _, name = split(path)
    try:
        _bucket(path).blob(name).delete(if_generation_match=generation)
    except (api.NotFound, api.PreconditionFailed):
        return False
    except api.GoogleAPICallError as exc:
        raise _translate(exc, path) from exc
    return True


def read_generation(path: str) -> tuple[bytes, int] | None:
    """``(content, generation)`` of the object, read as one generation; None when it does not exist."""
    _, name = split(path)
    blob = _call(path, _bucket(path).get_blob, name)
    if blob is None:
        return None
    generation = int(blob.generation)  # before the download, which may reset it from the response
    return _call(path, blob.download_as_bytes, if_generation_match=generation), generation
