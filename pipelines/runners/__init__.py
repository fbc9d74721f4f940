"""Runners execute a built pipeline and say how the run went; one module per engine.

``base`` holds the interface (``Runner``, ``RunOutcome``) and the console ``Progress``;
``local`` the LocalDagRunner engine. What a run produced is read from ML Metadata by
``pipelines.results``, never by a runner.
"""

from pipelines.runners.base import Progress, Runner, RunOutcome
from pipelines.runners.local import LocalRunner

__all__ = ["LocalRunner", "Progress", "RunOutcome", "Runner"]
