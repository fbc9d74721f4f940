"""Scaffold a pipeline from a CSV: ``python -m pipelines.init --data PATH --label COLUMN --name NAME``.

Reads a sample of the CSV (a file, or the ``*.csv`` files of a directory), infers each
column's type and transform and the label's task (``pipelines.data.scaffold``), and writes

- ``configs/NAME.yaml``: the pipeline config, each inferred choice explained in a comment;
- ``schemas/NAME/schema.pbtxt``: the curated schema ExampleValidator checks new data against
  (types, which columns may be missing, the label's values; the label is not a serving input).

Then ``python -m pipelines.run --config configs/NAME.yaml`` runs it with no edits.

Choices: numbers are z-scored (log first for a heavy right tail); integers with at most
20 values and strings with at most 1,000 are vocabularies; more distinct strings are
hashed; identifiers, constant and empty columns are dropped; date-times give hour, day
of week and month. The label: two values -> binary (Yes/No too), a few -> multiclass,
fractional numbers -> regression; ``--task`` overrides.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from typing import Any

from components.csv_cells import read_rows
from pipelines.cli import main_guard
from pipelines.config import TASKS, default_thresholds, load_config
from pipelines.errors import ConfigError, PipelineError
from pipelines.data.scaffold import Choice, ColumnProfile, LabelChoice, ScaffoldError, choose_label, \
    choose_transform, profile

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class ScaffoldFailed(PipelineError):
    exit_code = 2


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


def data_files(path: str) -> tuple[str, str, list[str]]:
    """(data.source directory, data.pattern, files) for a file or a directory."""
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, "*.csv")))
        if not files:
            raise ScaffoldFailed(f"--data {path}: the directory holds no *.csv files")
        return path, "*.csv", files
    if os.path.isfile(path):
        return os.path.dirname(path) or ".", os.path.basename(path), [path]
    raise ScaffoldFailed(f"--data {path}: no such file or directory")


def read_sample(files: list[str], limit: int) -> tuple[list[str], dict[str, ColumnProfile], int]:
    """(header, column profiles, rows read) over the first ``limit`` rows of ``files``."""

    def rows_of(path: str) -> Any:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                yield from read_rows(fh)
        except UnicodeDecodeError as exc:
            raise ScaffoldFailed(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); re-export it as UTF-8") from None

    header = next(rows_of(files[0]), [])
    if not header:
        raise ScaffoldFailed(f"{files[0]}: no header row; the first line must name the columns")

    def data() -> Any:
        for path in files:
            it = rows_of(path)
            if next(it, []) != header:
                raise ScaffoldFailed(f"{path}: its header differs from {files[0]}'s; every file needs the same columns")
            yield from it

    profiles, n = profile(header, data(), limit)
    if n == 0:
        raise ScaffoldFailed(f"{files[0]}: a header but no data rows")
    return header, profiles, n


# --------------------------------------------------------------------------- writing


def schema_text(name: str, header: list[str], profiles: dict[str, ColumnProfile], label: str,
                label_choice: LabelChoice, n: int) -> str:
    lines = [
        f"# Curated TFDV schema for {name}, written by `python -m pipelines.init` from {n} sample rows.",
        "# Review it like code. Columns that had no missing value must always be present (a dense",
        "# feature); the others may be missing. The label is not a serving input.",
        'default_environment: "TRAINING"',
        'default_environment: "SERVING"',
    ]
    for col in header:
        p = profiles[col]
        kind = p.schema_type
        body = [f'  name: "{col}"', f"  type: {kind}"]
        if col == label:
            if label_choice.task == "binary" and label_choice.positive is None:
                body.append("  int_domain { min: 0 max: 1 }")
            elif label_choice.task in ("binary", "multiclass") and kind == "BYTES":
                values = sorted(p.counts)
                body.append("  string_domain {\n    name: \"%s\"\n%s  }" % (
                    col, "".join(f"    value: {json.dumps(v)}\n" for v in values)))
        if p.missing == 0 or col == label:
            body += ["  presence { min_fraction: 1.0 min_count: 1 }", "  shape { dim { size: 1 } }"]
        else:
            body += ["  presence { min_count: 1 }", "  value_count { max: 1 }"]  # a missing cell is an empty list
        if col == label:
            body.append('  not_in_environment: "SERVING"')
        lines.append("feature {\n" + "\n".join(body) + "\n}")
    return "\n".join(lines) + "\n"


def _yaml_value(v: Any) -> str:
    """A scalar as YAML: plain when it reads back as the same string, else double-quoted."""
    if isinstance(v, str):
        plain = re.fullmatch(r"[A-Za-z_/.][A-Za-z0-9_./*-]*", v) and v.lower() not in (
            "yes", "no", "true", "false", "on", "off", "y", "n", "null", "none", "~")
        return v if plain else json.dumps(v)
    return str(v)


def _flow(d: dict[str, Any]) -> str:
    if list(d) == ["transform"]:
        return d["transform"]
    inner = ", ".join(f"{k}: [{', '.join(v)}]" if isinstance(v, list) else f"{k}: {_yaml_value(v)}"
                      for k, v in d.items())
    return "{" + inner + "}"


def train_steps_for(rows: int, batch_size: int) -> int:
    """About five passes over the training split, between 300 and 3000 steps."""
    return max(300, min(3000, round(5 * 0.8 * rows / batch_size / 100) * 100))


def config_text(name: str, source: str, pattern: str, schema_path: str, label: str, label_choice: LabelChoice,
                choices: dict[str, Choice], profiles: dict[str, ColumnProfile], n: int) -> str:
    batch = 128
    steps = train_steps_for(n, batch)
    out = [
        f"# {name}: scaffolded by `python -m pipelines.init` from {n} sample rows of {os.path.join(source, pattern)}.",
        f"# Run:  python -m pipelines.run --config configs/{name}.yaml",
        "# Every inferred choice is explained in a comment; edit freely (see the README's configuration reference).",
        "",
        "pipeline:",
        f"  name: {name}",
        f"  root: runs/{name}",
        "",
        "data:",
        f"  source: {_yaml_value(source)}",
        f"  pattern: {_yaml_value(pattern)}",
        "  split: {train: 4, eval: 1}     # 80/20 by hash buckets",
        "",
        "schema:",
        f"  path: {_yaml_value(schema_path)}",
        "",
        "label:",
        f"  column: {_yaml_value(label)}",
        f"  task: {label_choice.task:<22}# {label_choice.why}",
    ]
    if label_choice.positive is not None:
        out.append(f"  positive: {_yaml_value(label_choice.positive)}")
    if label_choice.classes is not None:
        out.append(f"  classes: [{', '.join(_yaml_value(c) for c in label_choice.classes)}]   # the order of `scores`")
    out += ["", "features:                        # every column but the label, with its transform"]
    width = max(len(c) for c in choices) + 2
    for col, choice in choices.items():
        key = col if _NAME.fullmatch(col) else json.dumps(col)
        out.append(f"  {key + ':':<{width}} {_flow(choice.transform):<40} # {choice.why}")
    thresholds = default_thresholds(label_choice.task, len(label_choice.classes or []) or 2)
    out += [
        "",
        "model:",
        "  type: dnn",
        "  hidden_units: [64, 32]",
        "  embedding_dim: 8",
        "",
        "trainer:",
        f"  train_steps: {steps:<19}# about five passes over the training split",
        "  eval_steps: 50",
        f"  batch_size: {batch}",
        "  learning_rate: 0.003",
        "",
        "evaluation:                      # metrics and blessing bars (the defaults for the task)",
        "  thresholds:",
    ]
    for metric, t in thresholds.items():
        parts = {k: v for k, v in t.model_dump(exclude_none=True).items() if k != "change"}
        line = ", ".join(f"{k}: {v}" for k, v in parts.items())
        if t.change is not None:
            change = ", ".join(f"{k}: {v}" for k, v in t.change.model_dump(exclude_none=True).items())
            line = f"{line}, change: {{{change}}}" if line else f"change: {{{change}}}"
        out.append(f"    {metric}: {{{line}}}")
    out += [
        "",
        "push:",
        "  serving_dir: serving           # TF Serving layout: serving/<model_name>/<version>/",
        f"  model_name: {name}",
        "",
    ]
    return "\n".join(out)


def _relative(path: str) -> str:
    rel = os.path.relpath(os.path.abspath(path))
    return path if rel.startswith("..") else rel


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not _NAME.fullmatch(args.name):
        raise ScaffoldFailed(f"--name {args.name!r}: use letters, digits and underscores, starting with a letter")
    source, pattern, files = data_files(args.data)
    header, profiles, n = read_sample(files, args.sample_rows)
    if args.label not in header:
        raise ScaffoldFailed(f"--label {args.label!r} is not a column of {files[0]}; columns: {', '.join(header)}")
    try:
        label_choice = choose_label(profiles[args.label], args.task)
    except ScaffoldError as exc:
        raise ScaffoldFailed(str(exc)) from None
    choices = {col: choose_transform(profiles[col]) for col in header if col != args.label}
    if all(c.transform["transform"] == "drop" for c in choices.values()):
        raise ScaffoldFailed(f"every feature column was dropped ({'; '.join(f'{k}: {c.why}' for k, c in choices.items())})"
                             f"; there is nothing to learn from")
    config_path = args.out or os.path.join("configs", f"{args.name}.yaml")
    schema_path = args.schema_out or os.path.join("schemas", args.name, "schema.pbtxt")
    for path in (config_path, schema_path):
        if os.path.exists(path) and not args.force:
            raise ScaffoldFailed(f"{path} exists; pass --force to overwrite it, or --out/--schema-out for new paths")
    schema = schema_text(args.name, header, profiles, args.label, label_choice, n)
    config = config_text(args.name, _relative(source), pattern, _relative(schema_path), args.label, label_choice,
                         choices, profiles, n)
    _write(schema_path, schema)
    _write(config_path, config)
    try:
        load_config(config_path, [])
    except ConfigError as exc:  # a scaffold bug, but say what to fix
        raise ScaffoldFailed(f"the written config does not validate; edit {config_path}:\n{exc}") from None
    print(f"read {n} rows of {len(header)} columns from {len(files)} file(s)")
    print(f"label {args.label}: {label_choice.why}")
    for col, choice in choices.items():
        print(f"  {col}: {_flow(choice.transform)}  ({choice.why})")
    print(f"wrote {config_path} and {schema_path}")
    print(f"next: python -m pipelines.run --config {config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
