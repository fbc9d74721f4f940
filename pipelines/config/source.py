"""Where a config came from: its file, the line of every key, and the ``--set`` overrides.

The loader builds one :class:`ConfigSource` per load and hands it to the model, which keeps it
(``PipelineConfig.origin``), so a check run later (``pipelines.data.environment``) can still say
``file:line: dotted.key: message``.

Example:
    >>> src = ConfigSource("c.yaml", {("trainer",): 3, ("trainer", "train_steps"): 4})
    >>> src.locate("trainer.train_steps")
    'c.yaml:4: trainer.train_steps: '
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import ConfigError

__all__ = ["ConfigSource", "KeyProblem"]

KeyProblem = tuple[str, str]  # (dotted key, message): what every check returns


@dataclass(frozen=True)
class ConfigSource:
    """The location info of one loaded config.

    Attributes:
        file: the YAML file's path as given, or None for a config not built by the loader.
        lines: key path (``("features", "age")``, list items as ints) -> line number in ``file``.
        overridden: key path -> the ``--set`` text that set it (wins over the file's line).
    """

    file: str | None = None
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    overridden: dict[tuple[str, ...], str] = field(default_factory=dict)

    def locate(self, key: str) -> str:
        """The ``file:line: key: `` prefix for a dotted key (``evaluation.slices[0]``), or the
        ``--set`` that set it; the nearest enclosing key's line when the key itself is not written."""
        parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"\.|\[|\]\.?", key) if p != "")
        for n in range(len(parts), 0, -1):
            if parts[:n] in self.overridden:
                return f"--set {self.overridden[parts[:n]]}: {key}: "
            if self.file is not None and parts[:n] in self.lines:
                return f"{self.file}:{self.lines[parts[:n]]}: {key}: "
        return f"{self.file}: {key}: " if self.file is not None else f"{key}: "

    def error(self, problems: list[KeyProblem]) -> ConfigError:
        """One ConfigError holding every problem, each located."""
        return ConfigError([self.locate(key) + message for key, message in problems])
