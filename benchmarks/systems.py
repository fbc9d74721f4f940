"""The three systems under test: their commands and how their output marks phases.

- ``project``: ``python -m pipelines.run``; progress lines on stdout,
  ``[4/8] Transform          started`` / ``[4/8] Transform          ran       18.1 s``.
- ``vanilla``: ``benchmarks/vanilla_tfx/ad_click_pipeline.py`` (absl INFO on stderr),
  ``Component Transform is running.`` / ``... is finished.``, and
  ``A cached execution 12 is used.`` in between for a cached component.
- ``keras``: ``benchmarks/plain_keras.py``, ``phase train started`` / ``phase train finished 3.1 s``.

A parser turns one line into an event for ``benchmarks.monitor`` or ``None``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from benchmarks.monitor import Event

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "benchmarks")
VANILLA_SCRIPT = os.path.join(BENCH, "vanilla_tfx", "ad_click_pipeline.py")
KERAS_SCRIPT = os.path.join(BENCH, "plain_keras.py")

_PROJECT_LINE = re.compile(r"^\[\d+/\d+\]\s+(\S+)\s+(started|ran|cached|failed)\b")
_VANILLA_COMPONENT = re.compile(r"Component (\S+) is (running|finished)\.")
_VANILLA_CACHED = re.compile(r"A cached execution \d+ is used\.")
_KERAS_LINE = re.compile(r"^phase (\S+) (started|finished|failed)\b")


def parse_project(stream: str, line: str) -> Event | None:
    if stream == "stdout":
        m = _PROJECT_LINE.match(line)
        if m:
            name, word = m.groups()
            return ("start", name, None) if word == "started" else ("end", name, word)
        if line.startswith("pipeline ") and "->" in line:  # printed once the config is validated
            return ("mark", "config_validated", None)
        if line.startswith("input: ") and "checked" in line:  # printed after the CSV preflight checks
            return ("mark", "preflight_done", None)
        if line.startswith("nothing changed since run"):  # the fast path: TFX not started
            return ("mark", "fast_path", None)
    return None


class VanillaParser:
    """Stateful: a component is ``cached`` when the launcher reused an execution between its lines."""

    def __init__(self) -> None:
        self.cached = False

    def __call__(self, stream: str, line: str) -> Event | None:
        m = _VANILLA_COMPONENT.search(line)
        if m:
            name, word = m.groups()
            if word == "running":
                self.cached = False
                return ("start", name, None)
            return ("end", name, "cached" if self.cached else "ran")
        if _VANILLA_CACHED.search(line):
            self.cached = True
        elif "Generating ephemeral wheel package" in line:
            return ("mark", "wheel_start", None)
        elif "Successfully built user code wheel" in line:
            return ("mark", "wheel_end", None)
        return None


def parse_keras(stream: str, line: str) -> Event | None:
    m = _KERAS_LINE.match(line) if stream == "stdout" else None
    if m:
        name, word = m.groups()
        return ("start", name, None) if word == "started" else ("end", name, "ran" if word == "finished" else word)
    return None


@dataclass(frozen=True)
class Workspace:
    """Where one system's run for one data size lives."""

    root: str  # pipeline root (or export dir for keras)
    serving: str
    summary: str


def project_cmd(
    config: str,
    data: str,
    ws: Workspace,
    train_steps: int | str,
    extra: list[str] | None = None,
    flags: list[str] | None = None,
) -> list[str]:
    sets = [
        f"pipeline.root={ws.root}",
        f"data.source={data}",
        f"push.serving_dir={ws.serving}",
        f"trainer.train_steps={train_steps}",
        *(extra or []),
    ]
    cmd = [sys.executable, "-m", "pipelines.run", "--config", config]
    for s in sets:
        cmd += ["--set", s]
    return [*cmd, "--summary", ws.summary, *(flags or [])]


def project_supports(flag: str) -> bool:
    """Whether ``pipelines.run --help`` lists ``flag`` (the CLI evolves; the harness adapts)."""
    import subprocess

    try:
        out = subprocess.run(
            [sys.executable, "-m", "pipelines.run", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return flag in out.stdout


def vanilla_cmd(
    data: str, ws: Workspace, train_steps: int, eval_steps: int, learning_rate: float | None = None
) -> list[str]:
    cmd = [
        sys.executable,
        VANILLA_SCRIPT,
        "--data",
        data,
        "--root",
        ws.root,
        "--serving",
        ws.serving,
        "--train-steps",
        str(train_steps),
        "--eval-steps",
        str(eval_steps),
    ]
    if learning_rate is not None:
        cmd += ["--learning-rate", str(learning_rate)]
    return cmd


def keras_cmd(data: str, ws: Workspace, train_steps: int, eval_steps: int) -> list[str]:
    return [
        sys.executable,
        KERAS_SCRIPT,
        "--data",
        data,
        "--out",
        ws.root,
        "--train-steps",
        str(train_steps),
        "--eval-steps",
        str(eval_steps),
    ]


def datagen_cmd(rows: int, out: str, seed: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipelines.datagen",
        "ad_click",
        "--rows",
        str(rows),
        "--out",
        out,
        "--seed",
        str(seed),
    ]


IMPORT_PROBES = {
    "python (bare interpreter)": "pass",
    "import tensorflow": "import tensorflow",
    "import tfx.v1 + tfma": "from tfx import v1; import tensorflow_model_analysis",
    # What a local pipeline needs, without tfx.v1 (whose extensions import google.cloud.aiplatform).
    "import TFX modules directly + tfma": (
        "from tfx.components import CsvExampleGen, StatisticsGen, SchemaGen, ExampleValidator, Transform, "
        "Trainer, Evaluator, Pusher; "
        "from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen; "
        "from tfx.orchestration.local.local_dag_runner import LocalDagRunner; "
        "from tfx.dsl.components.common.resolver import Resolver; "
        "from tfx.orchestration import pipeline, metadata; import tensorflow_model_analysis"
    ),
}


def import_probe_cmd(statement: str) -> list[str]:
    return [sys.executable, "-c", f"import os; os.environ['TF_USE_LEGACY_KERAS'] = '1'; {statement}"]
