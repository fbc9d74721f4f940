"""The one place user errors become messages and exit codes (2 config, 3 data blocked, 4 monitoring alert, 1 other)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from pipelines.errors import PipelineError


def main_guard(main: Callable[[], int], *, failure_code: int = 1) -> int:
    """Run a CLI ``main``; print a PipelineError as ``error: ...`` with no traceback.

    ``failure_code`` replaces exit 1 for a failure, for a command whose 1 means something else
    (``pipelines.schema diff --exit-code``: differences found).
    """
    try:
        return main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return failure_code if exc.exit_code == 1 else exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug, not a user error: short message unless asked
        if os.environ.get("PIPELINES_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"error: unexpected {type(exc).__name__}: {exc}\n"
                "  hint: set PIPELINES_DEBUG=1 for the traceback, and please report it",
                file=sys.stderr,
            )
        return failure_code


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and repeatable ``--set KEY=VALUE``: the same two flags on every command."""
    parser.add_argument("--config", required=True, help="pipeline YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set trainer.train_steps=500 (repeatable)",
    )
    from pipelines.config.profiles import ProfileAction

    parser.add_argument(
        "--profile",
        action=ProfileAction,
        default=[],
        dest="profiles",
        metavar="NAME",
        help="merge configs/profiles/NAME.yaml over the config, e.g. --profile dataflow (before any --set)",
    )
