"""What every config model shares: unknown keys are errors, values are frozen; paths made absolute."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def abspath(value: str | None) -> str | None:
    """Local paths become absolute (TFX needs absolute URIs); ``gs://`` stays as is."""
    if value is None or "://" in value:
        return value
    return os.path.abspath(os.path.expanduser(value))
