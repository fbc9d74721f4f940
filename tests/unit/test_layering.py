"""Structural rules that ruff and import-linter cannot state (those two run in `make lint`).

- Importing any ``pipelines`` module loads no TensorFlow, TFX or Beam: they are imported inside the
  functions that need them (import-linter sees function-level imports too, so it cannot tell).
- No module over about 400 lines: a module does one thing and fits on a few screens.
- The cause of an error is kept (``raise ... from exc``, never ``from None``) and ``AssertionError``
  is never raised as a run-time check.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "pipelines").rglob("*.py"), *(REPO / "components").rglob("*.py")])
HEAVY = (
    "tensorflow",
    "tfx",
    "tfx_bsl",
    "apache_beam",
    "tensorflow_transform",
    "tensorflow_data_validation",
    "tensorflow_model_analysis",
    "ml_metadata",
    "keras",
    "tf_keras",
)
# Modules whose whole purpose is the heavy API; each is itself imported only inside functions.
HEAVY_ON_PURPOSE = {"pipelines.build.tfx_api"}
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_importing_any_pipelines_module_loads_no_heavy_package() -> None:
    modules = [
        _module_name(p)
        for p in SOURCES
        if p.parts[len(REPO.parts)] == "pipelines" and _module_name(p) not in HEAVY_ON_PURPOSE
    ]
    # One fresh interpreter imports them one by one and names the first module that pulls a heavy package.
    code = (
        "import importlib, json, sys\n"
        f"heavy, modules = {HEAVY!r}, {modules!r}\n"
        "for name in modules:\n"
        "    importlib.import_module(name)\n"
        "    loaded = [h for h in heavy if h in sys.modules]\n"
        "    if loaded:\n"
        "        print(json.dumps([name, loaded])); break\n"
        "else:\n"
        "    print(json.dumps(None))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    culprit = json.loads(out.stdout.strip().splitlines()[-1])
    assert culprit is None, f"importing {culprit[0]} loads {culprit[1]}: import them inside the functions that use them"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_module_fits_on_a_few_screens(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines: split it by responsibility"


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Raise):
            continue
        where = f"{path.relative_to(REPO)}:{node.lineno}"
        if isinstance(node.cause, ast.Constant) and node.cause.value is None:
            found.append(f"{where}: `from None` drops the cause; use `from exc`")
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(raised, ast.Name) and raised.id == "AssertionError":
            found.append(f"{where}: AssertionError as a run-time check; raise an error from pipelines.errors")
    return found


def test_errors_keep_their_cause_and_no_assertion_error_is_raised() -> None:
    found = [offence for path in SOURCES for offence in _offences(path)]
    assert found == []
