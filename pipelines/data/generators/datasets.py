"""Every example data set by name: ``generate(name, out_dir, rows, seed, shards)`` writes one."""

from __future__ import annotations

from dataclasses import dataclass

from components import filesystem as fs
from pipelines.data.generators.ad_click import LABEL, month_name, write_ad_click
from pipelines.data.generators.ad_images import write_ad_click_images
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


def generate(
    name: str,
    out_dir: str,
    rows: int,
    seed: int = 0,
    shards: int = 1,
    months: int | None = None,
    images: bool = False,
) -> Generated:
    """Write data set ``name`` into ``out_dir`` (local or ``gs://``); ``shards`` files for ad_click,
    one file otherwise. ``months``: ad_click only, ``rows`` rows in each of ``months`` monthly
    folders ``2026-09/``, ``2026-10/``, ... (seed ``seed + i`` for month ``i``; see ``MONTHLY_DRIFT``).
    ``images``: ad_click only, one banner per row and an ``image_path`` column (``ad_images``).

    Raises:
        ConfigError: an unknown name, or ``rows``/``shards``/``months`` out of range.
    """
    if name not in DATASETS:
        raise ConfigError(f"{name!r} is not a data set; choose one of {', '.join(DATASETS)}")
    if rows < 1:
        raise ConfigError(f"--rows {rows}: must be at least 1")
    if images and name != "ad_click":
        raise ConfigError(f"--images is for ad_click, whose rows are ads with banners; {name} has none")
    write_rows = write_ad_click_images if images else write_ad_click
    if months is not None:
        if name != "ad_click":
            raise ConfigError(f"--months is for ad_click, which has a monthly drift; {name} has none")
        if not 1 <= months <= 120:
            raise ConfigError(f"--months {months}: must be between 1 and 120")
        paths = []
        for i in range(months):
            # Image paths are relative to the data folder (data.source), above the month folders.
            extra = {"prefix": month_name(i) + "/"} if images else {}
            paths += write_rows(fs.join(out_dir, month_name(i)), rows, seed + i, shards, month=i, **extra)
        return Generated(paths, None)
    if name == "ad_click":
        return Generated(write_rows(out_dir, rows, seed, shards), None)
    path, oracle = write(name, out_dir, rows, seed)
    return Generated([path], oracle)
