"""The one place user errors become messages and exit codes (2 config, 3 data blocked, 1 other)."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Callable

from pipelines.errors import PipelineError


def main_guard(main: Callable[[], int]) -> int:
    """Run a CLI ``main``; print a PipelineError as ``error: ...`` with no traceback."""
    try:
        return main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug, not a user error: short message unless asked
        if os.environ.get("PIPELINES_DEBUG"):
            traceback.print_exc()
        else:
            print(f"error: unexpected {type(exc).__name__}: {exc}\n"
                  "  hint: set PIPELINES_DEBUG=1 for the traceback, and please report it", file=sys.stderr)
        return 1
