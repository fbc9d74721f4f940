"""Run a pipeline with TFX's LocalDagRunner, reporting each component as it starts and ends.

Progress comes from the runner's and launcher's own log records ("Component %s is
running.", "A cached execution %d is used.", "Component %s is finished."), read by
a logging handler, so the run itself is TFX's, untouched.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from components import infra_check  # light: subprocess only, TensorFlow loads in its child
from pipelines.runners.logs import quiet_libraries, stderr_to
from pipelines.config import PipelineConfig
from pipelines.errors import DataValidationError, PipelineRunError


@dataclass
class ComponentRecord:
    name: str
    status: str = "skipped"  # ran | cached | failed | skipped
    seconds: float = 0.0
    started: float | None = None


@dataclass
class RunRecord:
    components: list[ComponentRecord]
    log_path: str
    error: str | None = None
    failed_component: str | None = None
    blocked: dict[str, Any] | None = None  # the validation gate's verdict when it stopped the run
    seconds: float = 0.0
    by_name: dict[str, ComponentRecord] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {c.name: c for c in self.components}


class _ProgressHandler(logging.Handler):
    """Turns the LocalDagRunner's log records into ComponentRecord updates and progress lines."""

    def __init__(self, record: RunRecord, out: TextIO, on_start: dict[str, Any] | None = None) -> None:
        super().__init__(level=logging.INFO)
        self.run = record
        self.out = out
        self.on_start = on_start or {}  # component name -> called when it starts
        self.current: ComponentRecord | None = None
        self.cached = False

    def _line(self, comp: ComponentRecord, text: str) -> None:
        index = self.run.components.index(comp) + 1
        width = max(len(c.name) for c in self.run.components)
        print(f"[{index}/{len(self.run.components)}] {comp.name:<{width}}  {text}", file=self.out, flush=True)

    def emit(self, rec: logging.LogRecord) -> None:
        msg, args = rec.msg, rec.args
        if msg == "Component %s is running." and args:
            comp = self.run.by_name.get(str(args[0]))
            if comp is None:
                return
            self.current, self.cached = comp, False
            comp.started = time.monotonic()
            self._line(comp, "started")
            if comp.name in self.on_start:
                self.on_start[comp.name]()
        elif msg == "A cached execution %d is used.":
            self.cached = True
        elif msg == "Component %s is finished." and args and self.current is not None:
            comp = self.current
            comp.seconds = time.monotonic() - (comp.started or time.monotonic())
            comp.status = "cached" if self.cached else "ran"
            self._line(comp, f"{comp.status:<7} {comp.seconds:6.1f} s")
            self.current = None


def run_local(config: PipelineConfig, *, until: str | None = None, verbose: bool = False,
              out: TextIO = sys.stdout) -> RunRecord:
    """Build the pipeline and run it with LocalDagRunner; never raises for a component failure.

    Returns the per-component record; ``record.error`` is set when a component failed and
    ``record.blocked`` when the validation gate stopped the data. ``until='validate'`` runs
    ingestion through the data gate only; the rest is reported as skipped.
    """
    started = time.monotonic()
    try:
        return _run(config, until, verbose, out, started)
    finally:
        infra_check.discard_warm()  # a prewarmed checker the Pusher did not use


def _run(config: PipelineConfig, until: str | None, verbose: bool, out: TextIO, started: float) -> RunRecord:
    quiet_libraries(verbose)
    log_dir = os.path.join(config.pipeline.root, "logs")
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, datetime.now().strftime("run-%Y%m%d-%H%M%S.log"))

    import components  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)
    from absl import logging as absl_logging
    from pipelines.build.tfx_api import tfx

    from pipelines.build import build_pipeline, component_names, stage_schema

    stage_schema(config)
    pipeline = build_pipeline(config, until)
    record = RunRecord([ComponentRecord(n) for n in component_names(config)], log_path=log_path)
    # Resolver nodes only pick inputs for the next component; they are not reported as components.
    built = [c.id for c in pipeline.components if not isinstance(c, tfx.dsl.Resolver)]
    if built != component_names(config)[: len(built)]:
        raise AssertionError(f"component_names() is out of date: {built}")

    absl_logger = logging.getLogger("absl")
    root = logging.getLogger()
    file_handler = logging.FileHandler(log_path, encoding="utf-8")
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # The Pusher's infra check runs in a child process whose TensorFlow import (about 8 s) overlaps
    # the Evaluator, the stage that competes least for the second core (started earlier, the import
    # slowed ExampleGen, StatisticsGen and Transform by as much as it saved).
    on_start = {"Evaluator": infra_check.prewarm} if until is None and config.push.infra_validation else {}
    progress = _ProgressHandler(record, out, on_start)
    saved_levels = {h: h.level for h in root.handlers}
    saved_absl_level = absl_logger.level
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.setLevel(logging.INFO)
    tf_logger = logging.getLogger("tensorflow")
    saved_tf_level = tf_logger.level
    if not verbose:  # absl's and TF's own stderr handlers: the console gets our lines, the log file the rest
        tf_logger.setLevel(logging.ERROR)
        for h in root.handlers:
            h.setLevel(logging.CRITICAL + 1)
    root.addHandler(file_handler)
    absl_logger.addHandler(progress)
    try:
        # C++ libraries (TFDV, TF, Beam) write to fd 2 directly: send that to the log file too.
        with stderr_to(None if verbose else log_path):
            tfx.orchestration.LocalDagRunner().run(pipeline)
    except Exception as exc:  # a component failed: record it, report it, do not crash the CLI
        failed = progress.current
        blocked = _data_blocked(exc)
        if failed is not None:
            failed.status = "failed"
            failed.seconds = time.monotonic() - (failed.started or time.monotonic())
            progress._line(failed, f"{'blocked' if blocked else 'failed':<7} {failed.seconds:6.1f} s")
            record.failed_component = failed.name
        logging.getLogger(__name__).exception("pipeline failed")
        record.error = _short_error(exc)
        if blocked is not None:
            record.blocked = blocked.verdict
    finally:
        absl_logger.removeHandler(progress)
        root.removeHandler(file_handler)
        file_handler.close()
        absl_logger.setLevel(saved_absl_level)
        tf_logger.setLevel(saved_tf_level)
        for h, level in saved_levels.items():
            h.setLevel(level)
    record.seconds = time.monotonic() - started
    return record


def _data_blocked(exc: BaseException) -> Any:
    """The gate's DataBlocked anywhere in the exception chain, or None."""
    from components.gate import DataBlocked

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DataBlocked):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _short_error(exc: BaseException) -> str:
    """The innermost cause's message, which is where TFX keeps the useful part."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return f"{type(exc).__name__}: {first[:500]}"


def raise_if_failed(record: RunRecord) -> None:
    if record.blocked is not None:
        raise DataValidationError(
            f"{record.failed_component} stopped the run: the data has blocking anomalies (listed above); "
            "nothing was trained or pushed",
            hint=f"fix the data or the schema/config as each anomaly says; full log: {record.log_path}")
    if record.error:
        where = f"component {record.failed_component} failed" if record.failed_component else "pipeline failed"
        raise PipelineRunError(f"{where}: {record.error}", hint=f"full log: {record.log_path}")
