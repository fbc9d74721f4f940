"""Every example data set by name: ``generate(name, out_dir, rows, seed, shards)`` writes one."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.data.generators.ad_click import LABEL, write_ad_click
from pipelines.data.generators.tabular import MORE_TABLES, TABLES, write
from pipelines.errors import ConfigError

__all__ = ["DATASETS", "LABELS", "Generated", "generate"]

# ad_click, churn (binary), species (multiclass), prices (regression), tickets (binary, free text)
DATASETS = ["ad_click", *TABLES, *MORE_TABLES]
# Each data set's label column: a config with this name and label is one `datagen` can make data for.
LABELS: dict[str, str] = {"ad_click": LABEL, **{name: t[1] for name, t in {**TABLES, **MORE_TABLES}.items()}}


@dataclass(frozen=True)
class Generated:
    paths: list[str]
    oracle: float | None  # the generating rule's own score on the written rows (tabular tables)


def generate(name: str, out_dir: str, rows: int, seed: int = 0, shards: int = 1) -> Generated:
    """Write data set ``name`` into ``out_dir``; ``shards`` files for ad_click, one file otherwise.

    Raises:
        ConfigError: an unknown name, or ``rows``/``shards`` out of range.
    """
    if name not in DATASETS:
        raise ConfigError(f"{name!r} is not a data set; choose one of {', '.join(DATASETS)}")
    if rows < 1:
        raise ConfigError(f"--rows {rows}: must be at least 1")
    if name == "ad_click":
        return Generated(write_ad_click(out_dir, rows, seed, shards), None)
    path, oracle = write(name, out_dir, rows, seed)
    return Generated([path], oracle)
