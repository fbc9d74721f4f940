"""Loading: YAML file + ``--set`` overrides -> validated ``PipelineConfig``.

Example:
    >>> cfg = load_config("configs/ad_click.yaml", ["trainer.train_steps=200"])
    >>> cfg.trainer.train_steps
    200
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.config.checks import CHECKS
from pipelines.config.messages import describe_error
from pipelines.config.models import PipelineConfig
from pipelines.config.source import ConfigSource
from pipelines.errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{self.name}:{line}: duplicate key {key!r} (first at line {seen[key]})",
                    hint="keep one of them",
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads `1e-3` as a string; accept exponent floats the way YAML 1.2 (and users) expect.
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789.")
)


def _key_lines(node: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path in the YAML document to its line number."""
    lines: dict[tuple[Any, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = (*prefix, k.value)
            lines[path] = k.start_mark.line + 1
            lines.update(_key_lines(v, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines[(*prefix, i)] = v.start_mark.line + 1
            lines.update(_key_lines(v, (*prefix, i)))
    return lines


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse one ``--set dotted.key=value``; the value is read as YAML (``3``, ``true``, ``[64, 32]``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected dotted.key=value, e.g. --set trainer.train_steps=500")
    parts = key.split(".")
    if any(not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", p) for p in parts):
        raise ConfigError(f"--set {text!r}: {key!r} is not a dotted key such as trainer.train_steps")
    try:
        value = yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {text!r}: value is not valid YAML ({_yaml_reason(exc)})") from exc
    return parts, value


def _apply_override(data: dict[str, Any], parts: list[str], value: Any, text: str) -> None:
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise ConfigError(f"--set {text!r}: {where} is a value, not a section; cannot set {'.'.join(parts)}")
        node = child
    node[parts[-1]] = value


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


def load_config(path: str | os.PathLike[str], overrides: list[str] | tuple[str, ...] = ()) -> PipelineConfig:
    """Load a YAML pipeline config, apply ``--set`` overrides, validate types, keys and
    cross-field rules. Reads no file but the config itself: checks of the data, the schema
    file and user modules are ``pipelines.data.environment.check_environment``.

    The returned config keeps where each key was written (``config.origin``), so later
    checks can name the file and line too.

    Raises:
        ConfigError: naming the file, line and dotted key of every problem found.
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{name}: config file not found", hint="pass --config PATH to an existing YAML file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read config file ({exc})") from exc

    try:
        loader = _UniqueKeyLoader(text)
        loader.name = name
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML ({_yaml_reason(exc)})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the top level must be a mapping of sections (pipeline:, data:, ...)")

    overridden: dict[tuple[str, ...], str] = {}
    for text_ in overrides:
        parts, value = parse_override(text_)
        _apply_override(data, parts, value, text_)
        overridden[tuple(parts)] = text_

    source = ConfigSource(name, lines, overridden)
    try:
        config = PipelineConfig.model_validate(data, context={"origin": source})
    except ValidationError as exc:
        raise ConfigError([describe_error(err, source) for err in exc.errors()]) from exc

    problems = [p for check in CHECKS for p in check(config)]
    if problems:
        raise source.error(problems)
    return config
