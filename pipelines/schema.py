"""The schema review loop: ``python -m pipelines.schema {infer,diff} --config FILE``.

- ``infer`` computes statistics over the current data (the latest span only) and writes
  the schema TFDV infers from them next to the curated one, as
  ``schema.inferred.pbtxt``, for review. It never overwrites the curated schema.
- ``diff`` validates the current data against the curated schema and shows what
  the data would change: the anomalies, and a unified diff between the curated
  schema and the curated schema relaxed to accept the data (``tfdv.update_schema``).
  ``--exit-code`` exits 1 when there is a difference (for CI).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from typing import Any

from pipelines.runners.logs import quiet_libraries, stderr_to
from pipelines.cli import main_guard
from pipelines.config import PipelineConfig, load_config
from pipelines.errors import ConfigError
from pipelines.data.sources import resolve, span_regex


def data_glob(config: PipelineConfig) -> str:
    """One glob for the files of the latest span (TFDV reads a pattern, not a list)."""
    found = resolve(config.data.source, config.data.pattern, None)
    if not found.spans:
        return os.path.join(config.data.source, config.data.pattern)
    regex = span_regex(config.data.pattern)
    match = regex.match(os.path.relpath(found.files[0], config.data.source))
    pattern = config.data.pattern
    for placeholder, group in (("{SPAN}", "span"), ("{YYYY}", "year"), ("{MM}", "month"), ("{DD}", "day")):
        if placeholder in pattern and match is not None:
            pattern = pattern.replace(placeholder, match.group(group))
    return os.path.join(config.data.source, pattern)


def _statistics(config: PipelineConfig) -> Any:
    import components  # noqa: F401 (TF_USE_LEGACY_KERAS)
    import tensorflow_data_validation as tfdv

    from pipelines.data.preflight import preflight

    preflight(config)  # a malformed file gets the same clear message as in a run
    return tfdv.generate_statistics_from_csv(data_glob(config))


def _schema_dir(config: PipelineConfig) -> str:
    if config.schema_.path:
        return os.path.dirname(config.schema_.path)
    return os.path.join("schemas", config.pipeline.name)


def infer(config: PipelineConfig) -> str:
    """Write ``schema.inferred.pbtxt`` beside the curated schema; returns its path."""
    import tensorflow_data_validation as tfdv

    schema = tfdv.infer_schema(_statistics(config))
    out_dir = _schema_dir(config)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "schema.inferred.pbtxt")
    tfdv.write_schema_text(schema, path)
    return path


def diff(config: PipelineConfig) -> tuple[list[str], list[str]]:
    """(anomaly lines, unified diff lines) of the current data against the curated schema."""
    import tensorflow_data_validation as tfdv
    from google.protobuf import text_format

    from components.gate import findings_from_anomalies

    if not config.schema_.path:
        raise ConfigError(f"schema.path: {config.pipeline.name} has no curated schema to compare with",
                          hint="run `python -m pipelines.schema infer` and set schema.path to the reviewed file")
    curated = tfdv.load_schema_text(config.schema_.path)
    stats = _statistics(config)
    anomalies = tfdv.validate_statistics(stats, curated, environment="TRAINING")
    findings = findings_from_anomalies(anomalies, "current", config.schema_.path, config.label.column)
    lines = [f"{f.feature}: {f.kind}: {f.description}\n    fix: {f.fix}" for f in findings]
    relaxed = tfdv.update_schema(curated, stats)
    before = text_format.MessageToString(curated).splitlines()
    after = text_format.MessageToString(relaxed).splitlines()
    changes = list(difflib.unified_diff(before, after, config.schema_.path, "relaxed to accept the current data",
                                        lineterm=""))
    return lines, changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.schema", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["infer", "diff"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--exit-code", action="store_true", help="diff: exit 1 when the data would change the schema")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.overrides)
    quiet_libraries()
    if args.command == "infer":
        with stderr_to(os.devnull):
            path = infer(config)
        print(f"wrote {path}")
        if config.schema_.path:
            print(f"review it against the curated {config.schema_.path} (`python -m pipelines.schema diff`), "
                  "and copy over only the changes you mean")
        return 0
    with stderr_to(os.devnull):
        anomalies, changes = diff(config)
    print(f"current data vs {config.schema_.path}:")
    print("\n".join(anomalies) if anomalies else "no anomalies: the data matches the curated schema")
    if changes:
        print("\nwhat the data would change in the schema:")
        print("\n".join(changes))
    return 1 if args.exit_code and (anomalies or changes) else 0


if __name__ == "__main__":
    sys.exit(main_guard(main))
