"""The schema review loop: ``python -m pipelines.schema {infer,diff} --config FILE``.

- ``infer`` computes statistics over the current data (the latest span only) and writes
  the schema TFDV infers from them next to the curated one, as
  ``schema.inferred.pbtxt``, for review. It never overwrites the curated schema.
- ``diff`` validates the current data against the curated schema and shows what
  the data would change: the anomalies, and a unified diff between the curated
  schema and the curated schema relaxed to accept the data (``tfdv.update_schema``).
  ``--exit-code`` exits 1 when there is a difference (for CI).

The data is read as a run reads it (ExampleGen's reader and typing, then TFDV statistics:
``pipelines.data.schema_review``), so both agree on every column's type.

Exit codes (a failure never shares a code with "differences found"):
    0  done (``diff``: no differences, or ``--exit-code`` not given)
    1  ``diff --exit-code``: the data would change the schema
    2  the config, a flag or the schema file is wrong (``ConfigError``)
    3  an input file cannot be read as this pipeline's CSV (``PreflightError``)
    5  the tool failed (any other error; ``PIPELINES_DEBUG=1`` shows the traceback)
"""

from __future__ import annotations

import argparse
import os
import sys

from pipelines.cli import add_config_arguments, main_guard
from pipelines.config import load_config
from pipelines.data.schema_review import diff_schema, infer_schema
from pipelines.runners.logs import quiet_libraries, stderr_to

EXIT_DIFFERENCES = 1
EXIT_FAILED = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.schema", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["infer", "diff"])
    add_config_arguments(parser)
    parser.add_argument("--exit-code", action="store_true", help="diff: exit 1 when the data would change the schema")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.overrides)
    quiet_libraries()
    if args.command == "infer":
        with stderr_to(os.devnull):
            path = infer_schema(config)
        print(f"wrote {path}")
        if config.schema_.path:
            print(
                f"review it against the curated {config.schema_.path} (`python -m pipelines.schema diff`), "
                "and copy over only the changes you mean"
            )
        return 0
    with stderr_to(os.devnull):
        found = diff_schema(config)
    print(f"current data vs {config.schema_.path}:")
    print("\n".join(found.anomalies) if found.anomalies else "no anomalies: the data matches the curated schema")
    if found.changes:
        print("\nwhat the data would change in the schema:")
        print("\n".join(found.changes))
    return EXIT_DIFFERENCES if args.exit_code and (found.anomalies or found.changes) else 0


def run(argv: list[str] | None = None) -> int:
    """``main`` under the CLI's error handling; a failure exits EXIT_FAILED, never the differences code."""
    return main_guard(lambda: main(argv), failure_code=EXIT_FAILED)


if __name__ == "__main__":
    sys.exit(run())
