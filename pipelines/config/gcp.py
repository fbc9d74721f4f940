"""The ``gcp:`` section, and where ML Metadata lives when the pipeline root is a bucket.

Credentials never appear here: Google's libraries find them in the environment (Application
Default Credentials: ``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default
login``, or a VM's service account). A config names at most the project.
"""

from __future__ import annotations

import hashlib
import os
import re

from pydantic import Field, field_validator

from pipelines.config.base import Strict as _Strict

__all__ = ["GcpSection", "check_project", "check_region", "local_metadata_path"]


def check_project(v: str | None) -> str | None:
    """A Google Cloud project id (or None); ValueError saying what one looks like."""
    if v is not None and not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", v):
        raise ValueError("must be a project id: 6-30 lowercase letters, digits or '-', starting with a letter")
    return v


def check_region(v: str) -> str:
    """A Google Cloud region such as europe-west1; ValueError otherwise."""
    if not re.fullmatch(r"[a-z]+-[a-z]+\d+", v):
        raise ValueError("must be a region such as europe-west1 or us-central1")
    return v


class GcpSection(_Strict):
    project: str | None = Field(
        None,
        description="Google Cloud project billed for gs:// requests; default: the one of your Application "
        "Default Credentials. Credentials themselves come only from the environment.",
    )

    _project_ok = field_validator("project")(check_project)


def local_metadata_path(root: str) -> str:
    """Where the SQLite ML Metadata of a ``gs://`` pipeline root goes by default.

    SQLite needs a local file system (byte-range locks, in-place writes); an object store has
    neither. The file goes in the user's cache, one per root, so reruns from any working
    directory on this machine share one history: ``$XDG_CACHE_HOME`` (default ``~/.cache``)
    ``/declarative-tfx/metadata/<bucket>/<prefix>-<hash>/metadata.sqlite``.

    Example:
        >>> local_metadata_path("gs://ads/runs/ad_click")  # doctest: +SKIP
        '/home/me/.cache/declarative-tfx/metadata/ads/runs_ad_click-1f0c2a9b/metadata.sqlite'
    """
    bucket, _, prefix = root[len("gs://") :].partition("/")
    digest = hashlib.sha256(root.encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", prefix.strip("/")) or "root"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "declarative-tfx", "metadata", bucket, f"{name}-{digest}", "metadata.sqlite")
