"""The user-facing error tree.

    PipelineError                     anything the CLI reports without a traceback
    ├── ConfigError (ValueError)      a config file or --set override is wrong       exit 2
    ├── DataValidationError           the data was stopped at the validation gate    exit 3
    ├── PipelineRunError              a component failed while running                exit 1
    └── ServingError                  push/serve: no such version, nothing to serve   exit 1

Only the CLI catches these (``pipelines.cli.main_guard``) and maps them to exit codes.
"""

from __future__ import annotations


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
        lines = [f"invalid pipeline config ({len(self.problems)} problems):"]
        lines += [f"  - {p}" for p in self.problems]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class DataValidationError(PipelineError):
    """Data did not pass validation; nothing was trained or pushed."""

    exit_code = 3


class PipelineRunError(PipelineError):
    """A pipeline component failed."""

    exit_code = 1


class ServingError(PipelineError):
    """A push, rollback or serve request cannot be done (no such version, no models, port taken)."""

    exit_code = 1
