"""Write a scaffolded pipeline: the config YAML and the curated schema, from a CSV sample.

``scaffold(request)`` reads a sample of the CSV (a file, or the ``*.csv`` files of a
directory) with the one CSV reader (``components.csv_cells``), infers each column's type
and transform and the label's task (``pipelines.data.column_profiles``), and writes

- the config (``configs/NAME.yaml``): YAML text, each inferred choice explained in an
  inline comment, written atomically;
- the schema (``schemas/NAME/schema.pbtxt``): a ``schema_pb2.Schema`` written with
  ``components.schema_file.write_schema``. Text format holds no inline comments, so the
  reason for each feature's type, presence and transform is a comment block at the top.

Example:
    >>> result = scaffold(ScaffoldRequest(data="data/churn", label="churned", name="churn"))
    >>> result.config_path, result.label_choice.task
    ('configs/churn.yaml', 'binary')
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tensorflow_metadata.proto.v0 import schema_pb2

from components import filesystem as fs
from components.csv_cells import open_csv, read_rows
from components.schema_file import write_schema
from pipelines.config import default_thresholds, load_config
from pipelines.data.column_profiles import Choice, ColumnProfile, LabelChoice, choose_label, choose_transform, profile
from pipelines.data.environment import check_environment
from pipelines.errors import ConfigError, ScaffoldError

__all__ = [
    "ScaffoldRequest",
    "Scaffolded",
    "build_schema",
    "config_text",
    "data_files",
    "read_sample",
    "scaffold",
    "schema_comment",
    "train_steps_for",
    "transform_yaml",
]

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ScaffoldRequest:
    """What ``python -m pipelines.init`` asks for (its flags)."""

    data: str
    label: str
    name: str
    task: str | None = None
    config_path: str | None = None  # default configs/NAME.yaml
    schema_path: str | None = None  # default schemas/NAME/schema.pbtxt
    sample_rows: int = 100_000
    force: bool = False


@dataclass(frozen=True)
class Scaffolded:
    """What was written, and the choices behind it."""

    config_path: str
    schema_path: str
    files: list[str]
    columns: int
    rows: int
    label_choice: LabelChoice
    choices: dict[str, Choice]


def data_files(path: str) -> tuple[str, str, list[str]]:
    """(data.source directory, data.pattern, files) for a file or a directory."""
    if fs.isdir(path):
        files = fs.glob(fs.join(path, "*.csv"))
        if not files:
            raise ScaffoldError(f"--data {path}: the directory holds no *.csv files")
        return path, "*.csv", files
    if fs.isfile(path):
        return fs.dirname(path) or ".", fs.basename(path), [path]
    raise ScaffoldError(f"--data {path}: no such file or directory")


def _rows_of(path: str) -> Iterator[list[str]]:
    try:
        with open_csv(path) as fh:
            yield from read_rows(fh)
    except UnicodeDecodeError as exc:
        raise ScaffoldError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); re-export it as UTF-8") from exc
    except csv.Error as exc:
        raise ScaffoldError(f"{path}: not valid CSV ({exc}); fix the quoting or remove NUL bytes") from exc
    except OSError as exc:
        raise ScaffoldError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def read_sample(files: list[str], limit: int) -> tuple[list[str], dict[str, ColumnProfile], int]:
    """(header, column profiles, rows read) over the first ``limit`` rows of ``files``."""
    header = next(_rows_of(files[0]), [])
    if not header:
        raise ScaffoldError(f"{files[0]}: no header row; the first line must name the columns")

    def data() -> Iterator[list[str]]:
        for path in files:
            rows = _rows_of(path)
            if next(rows, []) != header:
                raise ScaffoldError(f"{path}: its header differs from {files[0]}'s; every file needs the same columns")
            yield from rows

    profiles, n = profile(header, data(), limit)
    if n == 0:
        raise ScaffoldError(f"{files[0]}: a header but no data rows")
    return header, profiles, n


# --------------------------------------------------------------------------- the schema


def build_schema(
    header: list[str], profiles: dict[str, ColumnProfile], label: str, label_choice: LabelChoice
) -> schema_pb2.Schema:
    """The curated schema: types, which columns may be missing, the label's values (not a serving input)."""
    schema = schema_pb2.Schema()
    schema.default_environment.extend(["TRAINING", "SERVING"])
    for col in header:
        p = profiles[col]
        feature = schema.feature.add(name=col, type=schema_pb2.FeatureType.Value(p.schema_type))
        if col == label:
            if label_choice.task == "binary" and label_choice.positive is None:
                feature.int_domain.min, feature.int_domain.max = 0, 1
            elif label_choice.task in ("binary", "multiclass") and p.schema_type == "BYTES":
                feature.string_domain.name = col
                feature.string_domain.value.extend(sorted(p.counts))
        if p.missing == 0 or col == label:
            feature.presence.min_fraction, feature.presence.min_count = 1.0, 1
            feature.shape.dim.add(size=1)
        else:
            feature.presence.min_count = 1
            feature.value_count.max = 1  # a missing cell is an empty list
        if col == label:
            feature.not_in_environment.append("SERVING")
    return schema


_KIND_WHY = {
    "int": "INT (whole numbers)",
    "float": "FLOAT (numbers)",
    "string": "BYTES (text)",
    "missing": "BYTES (always empty)",
}


def schema_comment(
    name: str,
    header: list[str],
    profiles: dict[str, ColumnProfile],
    label: str,
    label_choice: LabelChoice,
    choices: dict[str, Choice],
    n: int,
) -> str:
    """The comment block on top of the schema: what it is, and each feature's reason."""
    lines = [
        f"Curated TFDV schema for {name}, written by `python -m pipelines.init` from {n} sample rows.",
        "Review it like code. Columns that had no missing value must always be present (a dense",
        "feature); the others may be missing. The label is not a serving input.",
        "",
        "Each feature, as the sample showed it:",
    ]
    for col in header:
        p = profiles[col]
        presence = "never missing: required" if p.missing == 0 else f"{p.missing / p.rows:.0%} missing: may be missing"
        if col == label:
            lines.append(f"  {col}: the label ({label_choice.why}); {_KIND_WHY[p.kind]}, required; not served")
        else:
            choice = choices[col]
            lines.append(
                f"  {col}: {_KIND_WHY[p.kind]}, {presence}; transform {transform_yaml(choice.transform)} ({choice.why})"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the config


def _yaml_value(v: Any) -> str:
    """A scalar as YAML: plain when it reads back as the same string, else double-quoted."""
    if isinstance(v, str):
        plain = re.fullmatch(r"[A-Za-z_/.][A-Za-z0-9_./*-]*", v) and v.lower() not in (
            "yes",
            "no",
            "true",
            "false",
            "on",
            "off",
            "y",
            "n",
            "null",
            "none",
            "~",
        )
        return v if plain else json.dumps(v)
    return str(v)


def transform_yaml(d: dict[str, Any]) -> str:
    """A feature's transform as YAML flow: ``zscore`` or ``{transform: hash, hash_buckets: 64}``."""
    if list(d) == ["transform"]:
        return d["transform"]
    inner = ", ".join(
        f"{k}: [{', '.join(v)}]" if isinstance(v, list) else f"{k}: {_yaml_value(v)}" for k, v in d.items()
    )
    return "{" + inner + "}"


def train_steps_for(rows: int, batch_size: int) -> int:
    """About five passes over the training split, between 300 and 3000 steps."""
    return max(300, min(3000, round(5 * 0.8 * rows / batch_size / 100) * 100))


def config_text(
    name: str,
    source: str,
    pattern: str,
    schema_path: str,
    label: str,
    label_choice: LabelChoice,
    choices: dict[str, Choice],
    n: int,
) -> str:
    """The config YAML, each inferred choice explained in an inline comment."""
    batch = 128
    steps = train_steps_for(n, batch)
    out = [
        f"# {name}: scaffolded by `python -m pipelines.init` from {n} sample rows of {fs.join(source, pattern)}.",
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
        key = col if NAME.fullmatch(col) else json.dumps(col)
        out.append(f"  {key + ':':<{width}} {transform_yaml(choice.transform):<40} # {choice.why}")
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
    if label_choice.plot_range is not None:
        lo, hi = (f"{v:.10g}" for v in label_choice.plot_range)  # enough digits to keep low < high
        out.append(
            f"  plot_range: [{lo}, {hi}]{'':<8}# predicted-vs-actual plots: the sample's label range, widened 10%"
        )
    out += [
        "",
        "push:",
        "  serving_dir: serving           # TF Serving layout: serving/<model_name>/<version>/",
        f"  model_name: {name}",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- the whole step


def _relative(path: str) -> str:
    if fs.is_remote(path):
        return path
    rel = os.path.relpath(os.path.abspath(path))
    return path if rel.startswith("..") else rel


def scaffold(request: ScaffoldRequest) -> Scaffolded:
    """Infer and write the config and schema for ``request``; raises ScaffoldError saying what to do."""
    if not NAME.fullmatch(request.name):
        raise ScaffoldError(f"--name {request.name!r}: use letters, digits and underscores, starting with a letter")
    source, pattern, files = data_files(request.data)
    header, profiles, n = read_sample(files, request.sample_rows)
    if request.label not in header:
        raise ScaffoldError(f"--label {request.label!r} is not a column of {files[0]}; columns: {', '.join(header)}")
    label_choice = choose_label(profiles[request.label], request.task)
    choices = {col: choose_transform(profiles[col]) for col in header if col != request.label}
    if all(c.transform["transform"] == "drop" for c in choices.values()):
        reasons = "; ".join(f"{k}: {c.why}" for k, c in choices.items())
        raise ScaffoldError(f"every feature column was dropped ({reasons}); there is nothing to learn from")
    config_path = request.config_path or os.path.join("configs", f"{request.name}.yaml")
    schema_path = request.schema_path or os.path.join("schemas", request.name, "schema.pbtxt")
    for path in (config_path, schema_path):
        if fs.exists(path) and not request.force:
            raise ScaffoldError(f"{path} exists; pass --force to overwrite it, or --out/--schema-out for new paths")
    write_schema(
        build_schema(header, profiles, request.label, label_choice),
        schema_path,
        header=schema_comment(request.name, header, profiles, request.label, label_choice, choices, n),
    )
    fs.write_text(
        config_path,
        config_text(
            request.name, _relative(source), pattern, _relative(schema_path), request.label, label_choice, choices, n
        ),
    )
    try:
        check_environment(load_config(config_path, []))
    except ConfigError as exc:  # a scaffold bug, but say what to fix
        raise ScaffoldError(f"the written config does not validate; edit {config_path}:\n{exc}") from exc
    return Scaffolded(config_path, schema_path, files, len(header), n, label_choice, choices)
