"""Generate example data: ``python -m pipelines.datagen ad_click --rows N --out DIR [--seed S] [--images]``.

``--out`` may be a local folder or ``gs://bucket/prefix`` (uploaded with the environment's
Application Default Credentials). ``--months M`` writes M monthly folders (``2026-09/``,
``2026-10/``, ...) of ``--rows`` rows each, with a slow documented drift between months
(``pipelines.data.generators.ad_click.MONTHLY_DRIFT``).

``--images`` (ad_click) also writes one PNG banner per ad under ``images/`` and an ``image_path``
column; part of the click signal is in the banner only (``pipelines.data.generators.ad_images``).

``ad_click`` is the advertising table the example pipeline trains on
(``pipelines.data.generators.ad_click``: its rule and columns); ``churn``, ``species`` and
``prices`` are messy exports for the scaffold, one per task (``pipelines.data.generators.tabular``).
The output depends only on ``--seed`` (and ``--rows``).

Exit codes: 0 written; 2 a flag is out of range, or ``--out`` cannot be written (no such
bucket, permission denied, no credentials: one line naming the path and what to do).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import main_guard
from pipelines.data.generators import DATASETS, generate
from pipelines.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.datagen", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "dataset",
        choices=DATASETS,
        help="ad_click, or a messy table per task (pipelines.data.generators.tabular): churn (binary), "
        "species (multiclass), prices (regression)",
    )
    parser.add_argument("--rows", type=int, required=True, help="number of data rows")
    parser.add_argument("--out", required=True, help="output directory or gs://bucket/prefix (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--shards", type=int, default=1, help="number of CSV files (default 1)")
    parser.add_argument(
        "--months", type=int, help="ad_click: write this many monthly folders 2026-09/, 2026-10/, ... (--rows each)"
    )
    parser.add_argument(
        "--images",
        action="store_true",
        help="ad_click: one PNG banner per ad under images/ and an image_path column (part of the signal)",
    )
    args = parser.parse_args(argv)
    try:
        done = generate(args.dataset, args.out, args.rows, args.seed, args.shards, args.months, args.images)
    except OSError as exc:
        raise ConfigError(f"--out: {exc}") from exc
    if args.months:
        print(f"wrote {args.rows} rows in each of {args.months} month folders: {', '.join(done.paths)}")
    elif args.images:
        print(
            f"wrote {args.rows} rows and banners to {', '.join(done.paths)} (rule: pipelines.data.generators.ad_images)"
        )
    elif done.oracle is not None:
        print(f"wrote {args.rows} rows to {done.paths[0]} (the generating rule scores {done.oracle:.3f})")
    else:
        print(f"wrote {args.rows} rows to {', '.join(done.paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
