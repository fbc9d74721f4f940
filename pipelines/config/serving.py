"""The ``serving:`` section: where ``pipelines.serve`` listens, and its batching, request log and access rules."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from pipelines.config.base import Strict as _Strict
from pipelines.config.base import abspath as _abspath

__all__ = ["AuthSection", "BatchingSection", "RequestLogSection", "ServingSection"]


class BatchingSection(_Strict):
    """TF Serving's ``--enable_batching`` parameters (``batching_parameters.txt``)."""

    enabled: bool = Field(False, description="Merge concurrent requests to one signature into one call.")
    max_batch_size: int = Field(64, ge=1, description="Most instances in one merged call.")
    batch_timeout_micros: int = Field(
        1000, ge=0, description="Longest a request waits for others to join its batch (microseconds)."
    )
    max_enqueued_batches: int = Field(
        16, ge=1, description="Full batches waiting per signature; beyond that a request is refused with 503."
    )
    num_batch_threads: int = Field(2, ge=1, description="Merged calls run at once per signature.")


class RequestLogSection(_Strict):
    """The request log: TF Serving ``PredictionLog`` records (TFRecord) in a folder."""

    path: str | None = Field(None, description="Folder (local or gs://) for the request log; unset = no log.")
    sampling_rate: float = Field(1.0, gt=0, le=1, description="Fraction of requests logged.")
    max_mb: float = Field(100.0, gt=0, description="Size cap of the log folder; the oldest files are deleted.")

    _abs = field_validator("path")(_abspath)


class AuthSection(_Strict):
    """Bearer-token access: where the token is, never the token itself."""

    token_env: str | None = Field(
        None, description="Environment variable holding the bearer token; requests without it get 401."
    )
    token_file: str | None = Field(None, description="File holding the bearer token (instead of token_env).")

    _abs = field_validator("token_file")(_abspath)

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("must be the name of an environment variable (letters, digits, '_'), not the token")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> AuthSection:
        if self.token_env and self.token_file:
            raise ValueError("set token_env or token_file, not both")
        return self


class ServingSection(_Strict):
    host: str = Field("127.0.0.1", description="Address `pipelines.serve` binds to.")
    port: int = Field(8501, ge=1, le=65535, description="REST port (TF Serving's default is 8501).")
    grpc_port: int | None = Field(
        8500, ge=1, le=65535, description="gRPC port (TF Serving's default is 8500); null = no gRPC."
    )
    poll_seconds: float = Field(2.0, gt=0, description="How often the server looks for new or rolled-back versions.")
    max_body_mb: float = Field(64.0, gt=0, description="Largest request body (any encoding); larger gets 413.")
    request_timeout_seconds: float = Field(
        30.0, gt=0, description="Longest a client may take to send a request body; slower gets 408."
    )
    max_in_flight: int = Field(
        256, ge=1, description="Requests handled at once; more are refused at once (REST 503, gRPC RESOURCE_EXHAUSTED)."
    )
    drain_seconds: float = Field(30.0, ge=0, description="On SIGTERM, how long requests in flight may take to finish.")
    batching: BatchingSection = Field(default_factory=BatchingSection)
    logging: RequestLogSection = Field(default_factory=RequestLogSection)
    auth: AuthSection = Field(default_factory=AuthSection)
