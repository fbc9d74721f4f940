"""``--profile NAME``: engine settings that merge over any pipeline config.

A profile is a YAML file of config sections, ``configs/profiles/NAME.yaml`` (or a path to
one). It merges over the pipeline config key by key, and ``--set`` merges over both, in
that order whatever the order on the command line: so one pipeline config serves local and
cloud runs. The merge turns each leaf of the profile into a ``--set`` entry placed before
the user's own.

Example:
    >>> profile_overrides("dataflow")[0]
    'beam.runner="DataflowRunner"'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import ConfigError

__all__ = ["PROFILE_DIR", "ProfileAction", "profile_overrides"]

PROFILE_DIR = Path("configs/profiles")


def _profile_path(name: str) -> Path:
    if name.endswith((".yaml", ".yml")):
        return Path(name)
    return PROFILE_DIR / f"{name}.yaml"


def _leaves(data: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out += _leaves(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={json.dumps(value)}")
    return out


def profile_overrides(name: str) -> list[str]:
    """The profile's settings as ``dotted.key=value`` overrides (values as JSON, which YAML reads).

    Raises:
        ConfigError: no such profile, or it is not a YAML mapping.
    """
    path = _profile_path(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        known = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")) if PROFILE_DIR.is_dir() else []
        raise ConfigError(
            f"--profile {name}: no profile file {path}", hint=f"choose one of {', '.join(known) or '(none found)'}"
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--profile {name}: cannot read {path} ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--profile {name}: {path} must be a mapping of config sections (beam:, ...)")
    return _leaves(data)


class ProfileAction(argparse.Action):
    """Put the profile's overrides in ``namespace.overrides`` before any ``--set`` (``--set`` wins)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        overrides = list(getattr(namespace, "overrides", None) or [])
        done = getattr(namespace, "_profile_count", 0)
        entries = profile_overrides(str(values))
        namespace.overrides = overrides[:done] + entries + overrides[done:]
        namespace._profile_count = done + len(entries)
        names = [*getattr(namespace, "profiles", []), str(values)]
        namespace.profiles = names
