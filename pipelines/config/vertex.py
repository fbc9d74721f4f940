"""The ``vertex:`` section: where Vertex AI Pipelines runs the compiled pipeline.

    vertex:
      region: europe-west1
      image: europe-west1-docker.pkg.dev/ad-click-prod/pipelines/declarative-tfx:0.1.0   # configs/image/Dockerfile
      service_account: pipelines@ad-click-prod.iam.gserviceaccount.com                   # optional

The project is ``gcp.project``. No credentials: ``google.cloud.aiplatform`` finds them in the
environment when submitting; compiling needs none. Light: pydantic only.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from pipelines.config.base import Strict
from pipelines.config.gcp import check_region

__all__ = ["VertexSection"]


class VertexSection(Strict):
    region: str = Field(description="Vertex AI region the pipeline runs in, e.g. europe-west1.")
    image: str = Field(
        description="Container image of every step: TFX 1.16 plus this package (configs/image/Dockerfile)."
    )
    service_account: str | None = Field(None, description="Service account the steps run as; default Vertex's.")

    _region_ok = field_validator("region")(check_region)

    @field_validator("image")
    @classmethod
    def _image_ok(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})", v):
            raise ValueError("must be an image with a tag, e.g. europe-west1-docker.pkg.dev/PROJECT/REPO/NAME:TAG")
        return v

    @field_validator("service_account")
    @classmethod
    def _account_ok(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com", v):
            raise ValueError("must be a service account email, NAME@PROJECT.iam.gserviceaccount.com")
        return v
