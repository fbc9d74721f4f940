"""The one place user errors become messages and exit codes (2 config, 3 data blocked, 1 other)."""

from __future__ import annotations

import sys
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
