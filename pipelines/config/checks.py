"""Cross-field checks on a validated config: each returns (dotted key, message) pairs whose
message names both sides and the fix. Run by ``load_config`` after the models validate."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.config.models import PipelineConfig


Problem = tuple[str, str]


def _csv_files(cfg: PipelineConfig) -> list[str]:
    from pipelines.data.sources import resolve

    return resolve(cfg.data.source, cfg.data.pattern, cfg.data.rolling_spans).files


def check_data_source(cfg: PipelineConfig) -> list[Problem]:
    src = cfg.data.source
    if "://" in src:
        return [("data.source", f"{src!r}: only local directories are supported by this version")]
    if not os.path.exists(src):
        return [("data.source", f"directory {src} does not exist; generate data with "
                 f"`python -m pipelines.datagen ad_click --rows 20000 --out {src}` or point data.source at your CSV folder")]
    if not os.path.isdir(src):
        return [("data.source", f"{src} is a file; data.source must be the directory that holds the CSV files")]
    if not _csv_files(cfg):
        return [("data.source", f"no files match {cfg.data.pattern!r} in {src}; set data.pattern or add CSV files")]
    return []


def read_csv_header(path: str) -> list[str]:
    """The column names on a CSV file's first line (BOM and surrounding quotes removed)."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as fh:
        row = next(csv.reader([fh.readline()]), [])
    return [c.strip() for c in row]


def _columns(cfg: PipelineConfig) -> tuple[str, list[str]] | None:
    files = _csv_files(cfg) if os.path.isdir(cfg.data.source) else []
    if not files:
        return None
    try:
        return files[0], read_csv_header(files[0])
    except (OSError, UnicodeDecodeError):
        return None  # reported by data validation, with the file named


def check_features_are_columns(cfg: PipelineConfig) -> list[Problem]:
    """Without a curated schema the CSV header is the list of columns (with one, data validation checks it)."""
    if cfg.schema_.path is not None:
        return []
    found = _columns(cfg)
    if found is None:
        return []
    file, header = found
    problems: list[Problem] = []
    for name in cfg.features:
        if name not in header:
            guess = difflib.get_close_matches(name, header, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            problems.append((f"features.{name}", f"{name!r} is not a column of {file}{hint} (columns: {', '.join(header)})"))
    if cfg.label.column not in header:
        problems.append(("label.column", f"{cfg.label.column!r} is not a column of {file} (columns: {', '.join(header)})"))
    return problems + _unlisted(cfg, header, "columns ", f" of {file}")


def check_label_not_feature(cfg: PipelineConfig) -> list[Problem]:
    if cfg.label.column in cfg.features:
        return [(f"features.{cfg.label.column}", f"{cfg.label.column!r} is the label (label.column); remove it from features")]
    return []


def check_some_feature_used(cfg: PipelineConfig) -> list[Problem]:
    if not cfg.used_features and cfg.trainer.run_fn is None:
        return [("features", "every feature is `drop`; the model needs at least one input")]
    return []


def check_schema_file(cfg: PipelineConfig) -> list[Problem]:
    path = cfg.schema_.path
    if path is None or "://" in path:
        return []
    if not os.path.isfile(path):
        return [("schema.path", f"schema file {path} does not exist; fix the path, or remove schema.path to infer one")]
    names = schema_feature_names(path)
    if not names:
        return [("schema.path", f"{path} names no features; is it a TFDV schema (text format)?")]
    problems = []
    for name in [*cfg.features, cfg.label.column]:
        if name not in names:
            guess = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            problems.append((f"features.{name}" if name != cfg.label.column else "label.column",
                             f"{name!r} is not a feature of schema {path}{hint}; add it to the schema or fix the name"))
    return problems + _unlisted(cfg, names, "schema features ", "")


def _unlisted(cfg: PipelineConfig, columns: list[str], before: str, after: str) -> list[Problem]:
    """Columns that are neither a feature nor the label: nothing may be ignored silently."""
    missing = [c for c in columns if c not in cfg.features and c != cfg.label.column]
    if not missing:
        return []
    return [("features", f"{before}{', '.join(missing)}{after} have no entry; give each a transform, "
             f"or `{missing[0]}: drop` to ignore it")]


def schema_feature_names(path: str) -> list[str]:
    """Top-level feature names of a text-format TFDV schema (no protobuf needed)."""
    text = Path(path).read_text(encoding="utf-8")
    return re.findall(r'^feature\s*\{\s*\n?\s*name:\s*"([^"]+)"', text, flags=re.M)


def schema_feature_block(path: str, name: str) -> str | None:
    """The text of feature ``name``'s block in a text-format schema, or None."""
    text = Path(path).read_text(encoding="utf-8")
    match = re.search(r'^feature\s*\{\s*\n?\s*name:\s*"' + re.escape(name) + r'"(.*?)^\}', text, flags=re.M | re.S)
    return match.group(1) if match else None


def check_label_fits_task(cfg: PipelineConfig) -> list[Problem]:
    """String labels need `positive` (binary) or `classes` (multiclass); regression needs numbers.
    Read from the curated schema, so the mistake is caught before TFX starts."""
    label = cfg.label
    if not cfg.schema_.path or not os.path.isfile(cfg.schema_.path):
        return []
    block = schema_feature_block(cfg.schema_.path, label.column)
    kind = re.search(r"^\s*type:\s*(\w+)", block or "", flags=re.M)
    if kind is None:
        return []
    values = re.findall(r'^\s*value:\s*"([^"]*)"', block or "", flags=re.M)
    where = f"the schema types {label.column!r} as {kind.group(1)}"
    if kind.group(1) == "BYTES":
        if label.task == "regression":
            return [("label.task", f"regression needs a numeric label, but {where}; use binary or multiclass")]
        if label.task == "binary" and label.positive is None:
            example = f", one of {values}" if values else ", e.g. 'Yes'"
            return [("label.positive", f"{where} (text): set label.positive to the positive class{example}")]
    if label.positive is not None and values and str(label.positive) not in values:
        return [("label.positive", f"{label.positive!r} is not a label value in the schema ({', '.join(values)})")]
    if label.task == "multiclass" and values:
        unknown = sorted(set(values) - set(label.class_names))
        if unknown:
            return [("label.classes", f"the schema allows label values {unknown} that are not in label.classes; "
                                      f"add them")]
    return []


def check_validation_features(cfg: PipelineConfig) -> list[Problem]:
    v = cfg.validation
    problems = [(f"validation.allow.{f}", f"{f!r} is not in features or the label")
                for f in v.allow if f not in cfg.features and f != cfg.label.column and f != "(dataset)"]
    problems += [(f"validation.drift.features.{f}", f"{f!r} is not in features")
                 for f in v.drift.features if f not in cfg.features]
    if v.skew.serving_data and not os.path.isdir(v.skew.serving_data):
        problems.append(("validation.skew.serving_data", f"directory {v.skew.serving_data} does not exist"))
    return problems


def check_user_modules(cfg: PipelineConfig) -> list[Problem]:
    """A named preprocessing_fn/run_fn must be importable (found without importing TensorFlow)."""
    import importlib.util

    problems = []
    for key, path in (("transform.preprocessing_fn", cfg.transform.preprocessing_fn),
                      ("trainer.run_fn", cfg.trainer.run_fn)):
        if path is None:
            continue
        module = path.rsplit(".", 1)[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            problems.append((key, f"module {module!r} not found; it must be importable from the directory you run in"))
    return problems


def check_thresholds_are_metrics(cfg: PipelineConfig) -> list[Problem]:
    return [
        (f"evaluation.thresholds.{m}", f"threshold on {m!r}, which is not in evaluation.metrics; add it there")
        for m in cfg.evaluation.thresholds
        if m not in cfg.evaluation.metrics
    ]


def check_metrics_fit_task(cfg: PipelineConfig) -> list[Problem]:
    from pipelines.config.models import TASK_METRICS

    task = cfg.label.task
    allowed = TASK_METRICS[task][1]
    return [
        (f"evaluation.metrics[{i}]", f"{m!r} is not a {task} metric; choose from {', '.join(sorted(allowed))}")
        for i, m in enumerate(cfg.evaluation.metrics)
        if m not in allowed
    ]


def check_slices_are_features(cfg: PipelineConfig) -> list[Problem]:
    problems = []
    for i, sl in enumerate(cfg.evaluation.slices):
        for name in [sl] if isinstance(sl, str) else sl:
            if name not in cfg.features:
                problems.append((f"evaluation.slices[{i}]", f"slice feature {name!r} is not in features"))
    return problems


CHECKS = (
    check_data_source,
    check_features_are_columns,
    check_label_not_feature,
    check_some_feature_used,
    check_schema_file,
    check_validation_features,
    check_user_modules,
    check_metrics_fit_task,
    check_label_fits_task,
    check_thresholds_are_metrics,
    check_slices_are_features,
)
