"""Scaffold a pipeline from a CSV: ``python -m pipelines.init --data PATH --label COLUMN --name NAME``.

Reads a sample of the CSV (a file, or the ``*.csv`` files of a directory), infers each
column's type and transform and the label's task (``pipelines.data.column_profiles``), and writes
(``pipelines.data.scaffold``)

- ``configs/NAME.yaml``: the pipeline config, each inferred choice explained in a comment;
- ``schemas/NAME/schema.pbtxt``: the curated schema ExampleValidator checks new data against
  (types, which columns may be missing, the label's values; the label is not a serving input),
  each feature's reason in a comment block at its top.

Then ``python -m pipelines.run --config configs/NAME.yaml`` runs it with no edits.

Choices: numbers are z-scored (log first for a heavy right tail); integers with at most
20 values and strings with at most 1,000 are vocabularies; more distinct strings are
hashed; free text (at least half the values distinct, a median of 3 or more words) is read
word by word (``text``); identifiers, constant and empty columns are dropped; date-times give
hour, day of week and month. The label: two values -> binary (Yes/No too), a few -> multiclass,
fractional numbers -> regression; ``--task`` overrides.

Exit codes: 0 written; 2 the CSV or the flags cannot be scaffolded as asked (``ScaffoldError``).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli import main_guard
from pipelines.config import TASKS
from pipelines.data.scaffold import ScaffoldRequest, scaffold, transform_yaml


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m pipelines.init", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="a CSV file, or a directory of CSV files with the same header")
    p.add_argument("--label", required=True, help="the column to predict")
    p.add_argument("--name", required=True, help="pipeline name: letters, digits, underscores (e.g. churn)")
    p.add_argument("--task", choices=TASKS, help="override the task inferred from the label")
    p.add_argument("--out", help="config path (default configs/NAME.yaml)")
    p.add_argument("--schema-out", help="schema path (default schemas/NAME/schema.pbtxt)")
    p.add_argument("--sample-rows", type=int, default=100_000, help="rows read to infer types (default 100000)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config and schema")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    done = scaffold(
        ScaffoldRequest(
            data=args.data,
            label=args.label,
            name=args.name,
            task=args.task,
            config_path=args.out,
            schema_path=args.schema_out,
            sample_rows=args.sample_rows,
            force=args.force,
        )
    )
    print(f"read {done.rows} rows of {done.columns} columns from {len(done.files)} file(s)")
    print(f"label {args.label}: {done.label_choice.why}")
    for col, choice in done.choices.items():
        print(f"  {col}: {transform_yaml(choice.transform)}  ({choice.why})")
    print(f"wrote {done.config_path} and {done.schema_path}")
    print(f"next: python -m pipelines.run --config {done.config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
