"""What every config model shares: unknown keys are errors, values are frozen; paths made absolute."""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def abspath(value: str | None) -> str | None:
    """Local paths become absolute (TFX needs absolute URIs); ``gs://bucket/...`` stays as is.

    Raises:
        ValueError: another scheme (``s3://``...), or a ``gs://`` path without a valid bucket name.
    """
    if value is None:
        return value
    if "://" in value:
        if not value.startswith("gs://"):
            raise ValueError(f"{value!r}: only local paths and gs://bucket/prefix are supported")
        bucket = value[len("gs://") :].split("/", 1)[0]
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", bucket):
            raise ValueError(f"{value!r}: the bucket name must be 3-222 lowercase letters, digits, '-', '_' or '.'")
        return value.rstrip("/") if value.count("/") > 2 else value
    return os.path.abspath(os.path.expanduser(value))
