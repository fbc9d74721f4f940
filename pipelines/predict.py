"""``python -m pipelines.predict --config FILE --data PATH --out PATH [--version V | --label L]``: batch scoring.

Scores CSV files (a file or a folder, local or ``gs://``) with a pushed version (default: the
one labelled ``stable``) as a Beam job using ``RunInference`` on the config's Beam runner.
Writes ``predictions-*.csv`` (or ``.parquet``) shards under ``--out``: the input's key
columns (``--key``; default every column the model does not take), the file and line, and
the signature's outputs. Rows that cannot be scored go to ``bad_rows-*.csv`` with the
reason; they never stop the job.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ConfigError, ServingError

__all__ = ["main", "resolve_version"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.predict", description=__doc__.split("\n\n")[0])
    add_config_arguments(parser)
    parser.add_argument("--data", required=True, help="CSV file or folder of CSV files (local or gs://)")
    parser.add_argument("--out", required=True, help="output folder (local or gs://)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, metavar="V", help="the pushed version to score with")
    which.add_argument("--label", metavar="L", help="the version with this label (default: stable)")
    parser.add_argument("--key", action="append", metavar="COLUMN", help="key column kept beside the predictions")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", help="prediction shards' format")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per signature call (default 256)")
    return parser.parse_args(argv)


def resolve_version(config: PipelineConfig, version: int | None, label: str | None) -> tuple[int, str]:
    """(version, SavedModel dir) of ``--version`` or ``--label`` (default ``stable``).

    Raises:
        ServingError: no such version or label.
    """
    from components.serving_config import model_labels, no_such_version
    from components.serving_paths import version_dirs

    serving_dir, name = config.push.serving_dir, config.model_name
    dirs = version_dirs(serving_dir, name)
    if version is None:
        labels = model_labels(serving_dir, name).versions
        wanted = label or "stable"
        if wanted not in labels:
            have = ", ".join(sorted(labels)) or "none"
            raise ServingError(
                f"model {name!r} has no version labelled {wanted!r} under {serving_dir} (labels: {have})",
                hint="pass --version V, or push a model: python -m pipelines.run --config FILE",
            )
        version = labels[wanted]
    if version not in dirs:
        raise ServingError(no_such_version(serving_dir, name, version, dirs))
    return version, dirs[version]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, args.overrides)
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size} must be at least 1")
    from pipelines.monitoring.batch import csv_files, run_batch

    files = csv_files(args.data)
    if not files:
        raise ConfigError(f"--data {args.data}: no CSV file there (a .csv file or a folder of them)")
    version, model_dir = resolve_version(config, args.version, args.label)
    print(f"scoring {len(files)} file(s) with {config.model_name} version {version} -> {args.out}", flush=True)
    result = run_batch(
        files,
        model_dir,
        args.out,
        keys=args.key,
        fmt=args.format,
        batch_size=args.batch_size,
        beam_args=config.beam.args(),
    )
    print(f"scored {result.scored} row(s); {result.bad} bad row(s) in {args.out}/bad_rows-*.csv", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
