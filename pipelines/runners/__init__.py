"""Runners execute a built pipeline; the pipeline built is the same for every runner."""

from pipelines.runners.local import ComponentRecord, RunRecord, run_local

__all__ = ["ComponentRecord", "RunRecord", "run_local"]
