"""pipelines.build.tfx_api skips tfx/components/__init__.py (every TFX component's executor) but keeps it working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # imports TFX in a child process (about 12 s)


def test_local_run_imports_skip_unused_components_and_package_imports_still_work() -> None:
    code = (
        "import sys\n"
        "from pipelines.build.tfx_api import tfx\n"
        "unused = [m for m in ('tfx.components.bulk_inferrer.executor', 'keras_tuner') if m in sys.modules]\n"
        "from tfx.components import CsvExampleGen, Pusher\n"  # the real __init__ runs on first attribute use
        "assert CsvExampleGen is tfx.components.CsvExampleGen and Pusher.__name__ == 'Pusher'\n"
        "print(unused)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
