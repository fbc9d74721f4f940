"""The user-facing error tree: every error the CLI reports without a traceback.

    PipelineError                         anything the CLI reports as `error: ...`          exit 1
    ├── ConfigError (ValueError)          a config file, a key in it or a --set is wrong    exit 2
    │   └── ScaffoldError                 `pipelines.init` cannot scaffold this CSV as asked exit 2
    ├── DataValidationError               the data was stopped; nothing trained or pushed   exit 3
    │   ├── PreflightError                an input file cannot be read as this CSV          exit 3
    │   └── DataBlockedError              the validation gate's verdict blocked the data    exit 3
    ├── PipelineRunError                  a component failed while running                  exit 1
    ├── ServingError                      push/serve: no such version, nothing to serve     exit 1
    └── MonitoringAlertError              monitor: drift, skew, live accuracy past a bound  exit 4

Raised inside components and never reaching the CLI as such: ``components.gate.DataBlocked``
(stops the TFX run; the CLI reads the gate's verdict artifact and raises
``DataBlockedError``) and ``components.serving_layout.LayoutError`` (wrapped as
``ServingError``, cause kept). Only the CLI (``pipelines.cli.main_guard``) catches these and
maps them to exit codes; everything else keeps its cause with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataBlockedError",
    "DataValidationError",
    "MonitoringAlertError",
    "PipelineError",
    "PipelineRunError",
    "PreflightError",
    "ScaffoldError",
    "ServingError",
]


def _count(n: int, noun: str) -> str:
    """``1 problem``, ``2 problems``: ``n`` and ``noun``, plural when ``n`` is not 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class PipelineError(Exception):
    """Root of every error the CLI turns into a message and an exit code."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(PipelineError, ValueError):
    """A config file, a key in it, or a --set override is wrong.

    ``problems`` holds one line per problem, each starting with ``file: dotted.key``.
    """

    exit_code = 2

    def __init__(self, problems: list[str] | str, *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = "invalid pipeline config" if len(self.problems) > 1 else self.problems[0]
        super().__init__(head, hint=hint)

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return super().__str__()
        lines = [f"invalid pipeline config ({_count(len(self.problems), 'problem')}):"]
        lines += [f"  - {p}" for p in self.problems]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class ScaffoldError(ConfigError):
    """``pipelines.init`` cannot turn this CSV into a pipeline as asked; the message says what to do."""


class DataValidationError(PipelineError):
    """Data did not pass validation; nothing was trained or pushed."""

    exit_code = 3


class PreflightError(DataValidationError):
    """An input file cannot be read as this pipeline's CSV (checked before TFX starts).

    ``problems`` holds one ``pipelines.data.preflight.Problem`` per file and kind.
    """

    def __init__(self, problems: list, *, hint: str | None = None) -> None:
        self.problems = list(problems)
        lines = [f"the input data cannot be read as this pipeline's CSV ({_count(len(self.problems), 'problem')}):"]
        for p in self.problems:
            lines.append(f"  - {p.file}: {p.description}\n    fix: {p.fix}")
        super().__init__("\n".join(lines), hint=hint)


class DataBlockedError(DataValidationError):
    """The validation gate's verdict artifact says the data has blocking anomalies."""


class PipelineRunError(PipelineError):
    """A pipeline component failed."""

    exit_code = 1


class ServingError(PipelineError):
    """A push, rollback or serve request cannot be done (no such version, no models, port taken)."""

    exit_code = 1


class MonitoringAlertError(PipelineError):
    """``pipelines.monitor``: served traffic crossed a monitoring bound (drift, skew, live metric, canary behind).

    The report is written before this is raised; ``alerts`` holds one line per bound crossed.
    """

    exit_code = 4

    def __init__(self, alerts: list[str], *, hint: str | None = None) -> None:
        self.alerts = list(alerts)
        lines = [f"monitoring: {_count(len(self.alerts), 'alert')}:"] + [f"  - {a}" for a in self.alerts]
        super().__init__("\n".join(lines), hint=hint)
