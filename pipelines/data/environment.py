"""Checks of the world a config points at: run by the commands that read data, not by loading.

``load_config`` checks types, keys and cross-field rules only, so ``pipelines.serve`` and
``pipelines.push`` work on a host that has the served models but not the training data.
``check_environment`` checks the rest: the data folder and its files, the CSV header
against the features (without a curated schema), the schema file and the features it
names, the label's type against the task, the serving-log folder, and user modules.
Problems are reported as ``file:line: dotted.key: message``, like the loader's.

Pure Python and protobuf (no TensorFlow), so it runs before TFX is imported.

Example:
    >>> config = load_config("configs/ad_click.yaml")
    >>> check_environment(config)  # raises ConfigError when data/ad_click is missing
"""

from __future__ import annotations

import csv
import difflib
import importlib.util

from components import filesystem as fs
from components.csv_cells import read_header
from components.schema_file import SchemaFileError, feature_names, find_feature, read_schema
from pipelines.config import PipelineConfig
from pipelines.config.source import KeyProblem
from pipelines.data.sources import empty_newest_folder, is_monthly, resolve, tfx_pattern

__all__ = ["ENVIRONMENT_CHECKS", "check_environment"]


def check_environment(config: PipelineConfig) -> None:
    """Check the files and modules ``config`` names; every problem is reported at once.

    Raises:
        ConfigError: one ``file:line: dotted.key: message`` line per problem, located with
            the config's ``origin`` (the file and line the key was written at, or its ``--set``).
    """
    problems = [p for check in ENVIRONMENT_CHECKS for p in check(config)]
    if problems:
        raise config.origin.error(problems)


def _data_hint(cfg: PipelineConfig) -> str:
    """What to do about missing data: datagen only for a pipeline it can generate."""
    from pipelines.data.generators.datasets import LABELS  # numpy: only when the data is missing

    src, name = cfg.data.source, cfg.pipeline.name
    if LABELS.get(name) == cfg.label.column:
        return (
            f"generate data with `python -m pipelines.datagen {name} --rows 20000 --out {src}` "
            f"or point data.source at your CSV folder"
        )
    return "point data.source at the folder that holds your CSV files"


def _csv_files(cfg: PipelineConfig) -> list[str]:
    return resolve(cfg.data.source, cfg.data.pattern, cfg.data.rolling_spans).files


def check_data_source(cfg: PipelineConfig) -> list[KeyProblem]:
    """The data folder exists and holds the files of ``data.pattern`` (a bucket too: its existence,
    access and credentials; each one line naming the path and what to do)."""
    try:
        return _data_source_problems(cfg)
    except OSError as exc:  # permission denied, no credentials, a bucket that is not there
        return [("data.source", str(exc))]


def _data_source_problems(cfg: PipelineConfig) -> list[KeyProblem]:
    src, pattern = cfg.data.source, cfg.data.pattern
    if not fs.exists(src):
        if fs.is_remote(src):
            fs.listdir(src)  # a missing bucket raises FileNotFoundError naming it, not the folder
        return [("data.source", f"directory {src} does not exist; {_data_hint(cfg)}")]
    if not fs.isdir(src):
        return [("data.source", f"{src} is a file; data.source must be the directory that holds the CSV files")]
    empty = empty_newest_folder(src, pattern)
    if empty is not None:
        return [
            (
                "data.pattern",
                f"the newest folder {empty} holds no file matching {pattern.rpartition('/')[2]!r}; "
                f"upload that drop's CSV files, or remove the empty folder to train on the one before",
            )
        ]
    if not _csv_files(cfg):
        return [("data.source", f"no files match {pattern!r} in {src}; set data.pattern or add CSV files")]
    if is_monthly(pattern) or (cfg.data.rolling_spans or 1) > 1:  # spans named for TFX (tfx_pattern)
        try:
            tfx_pattern(src, pattern, cfg.data.rolling_spans)
        except ValueError as exc:
            return [("data.rolling_spans", str(exc))]
    return []


def _csv_header(path: str) -> list[str] | None:
    """The first file's column names; None when it cannot be read (preflight names the file and why)."""
    try:
        return read_header(path)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def check_features_are_columns(cfg: PipelineConfig) -> list[KeyProblem]:
    """Without a curated schema the CSV header is the list of columns (with one, data validation checks it)."""
    if cfg.schema_.path is not None or check_data_source(cfg):
        return []
    files = _csv_files(cfg)
    header = _csv_header(files[0]) if files else None
    if header is None:
        return []
    file = files[0]
    problems: list[KeyProblem] = []
    for name in cfg.features:
        if name not in header:
            guess = difflib.get_close_matches(name, header, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            problems.append(
                (f"features.{name}", f"{name!r} is not a column of {file}{hint} (columns: {', '.join(header)})")
            )
    if cfg.label.column not in header:
        problems.append(
            ("label.column", f"{cfg.label.column!r} is not a column of {file} (columns: {', '.join(header)})")
        )
    return problems + _unlisted(cfg, header, "columns ", f" of {file}")


def check_schema_file(cfg: PipelineConfig) -> list[KeyProblem]:
    path = cfg.schema_.path
    if path is None:
        return []
    try:
        found = fs.isfile(path)
    except OSError as exc:  # permission denied, no credentials
        return [("schema.path", str(exc))]
    if not found:
        return [("schema.path", f"schema file {path} does not exist; fix the path, or remove schema.path to infer one")]
    try:
        names = feature_names(read_schema(path))
    except (OSError, UnicodeDecodeError, SchemaFileError) as exc:
        return [("schema.path", f"{exc}; fix the file, or remove schema.path to infer one")]
    if not names:
        return [("schema.path", f"{path} names no features; is it a TFDV schema (text format)?")]
    problems = []
    for name in [*cfg.features, cfg.label.column]:
        if name not in names:
            guess = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            problems.append(
                (
                    f"features.{name}" if name != cfg.label.column else "label.column",
                    f"{name!r} is not a feature of schema {path}{hint}; add it to the schema or fix the name",
                )
            )
    return problems + _unlisted(cfg, names, "schema features ", "")


def _unlisted(cfg: PipelineConfig, columns: list[str], before: str, after: str) -> list[KeyProblem]:
    """Columns that are neither a feature nor the label: nothing may be ignored silently."""
    missing = [c for c in columns if c not in cfg.features and c != cfg.label.column]
    if not missing:
        return []
    return [
        (
            "features",
            f"{before}{', '.join(missing)}{after} have no entry; give each a transform, "
            f"or `{missing[0]}: drop` to ignore it",
        )
    ]


def _label_domain(path: str, label: str) -> tuple[str, list[str]] | None:
    """(type name, string-domain values) of the label feature in the schema; None when the
    schema cannot be read (check_schema_file says why) or gives the label no type."""
    from tensorflow_metadata.proto.v0 import schema_pb2  # protobuf only: cheap, loaded by read_schema

    try:
        schema = read_schema(path)
    except (OSError, UnicodeDecodeError, SchemaFileError):
        return None
    feature = find_feature(schema, label)
    if feature is None or not feature.HasField("type"):
        return None
    if feature.HasField("string_domain"):
        values = list(feature.string_domain.value)
    elif feature.HasField("domain"):  # a reference to a top-level string_domain
        values = next((list(d.value) for d in schema.string_domain if d.name == feature.domain), [])
    else:
        values = []
    return schema_pb2.FeatureType.Name(feature.type), values


def check_label_fits_task(cfg: PipelineConfig) -> list[KeyProblem]:
    """String labels need `positive` (binary) or `classes` (multiclass); regression needs numbers.
    Read from the curated schema, so the mistake is caught before TFX starts."""
    label = cfg.label
    path = cfg.schema_.path
    try:
        if not path or not fs.isfile(path):
            return []
    except OSError:  # check_schema_file says why
        return []
    found = _label_domain(path, label.column)
    if found is None:
        return []
    kind, values = found
    where = f"the schema types {label.column!r} as {kind}"
    if kind == "BYTES":
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
            return [
                ("label.classes", f"the schema allows label values {unknown} that are not in label.classes; add them")
            ]
    return []


def check_serving_data(cfg: PipelineConfig) -> list[KeyProblem]:
    path = cfg.validation.skew.serving_data
    try:
        if path and not fs.isdir(path):
            return [("validation.skew.serving_data", f"directory {path} does not exist")]
    except OSError as exc:
        return [("validation.skew.serving_data", str(exc))]
    return []


def check_user_modules(cfg: PipelineConfig) -> list[KeyProblem]:
    """A named preprocessing_fn/run_fn must be importable (found without importing TensorFlow)."""
    problems = []
    for key, path in (
        ("transform.preprocessing_fn", cfg.transform.preprocessing_fn),
        ("trainer.run_fn", cfg.trainer.run_fn),
    ):
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


ENVIRONMENT_CHECKS = (
    check_data_source,
    check_features_are_columns,
    check_schema_file,
    check_serving_data,
    check_user_modules,
    check_label_fits_task,
)
