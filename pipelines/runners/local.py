"""The local engine: TFX's LocalDagRunner in this process, one component after another.

The run id is set here before the run starts (LocalDagRunner's own format, an ISO timestamp)
and read back from the compiled pipeline, so the summary reads exactly this run's
``pipeline_run`` context from ML Metadata, never "the newest one".

Progress lines come from the runner's and launcher's own log records ("Component %s is
running.", "A cached execution %d is used.", "Component %s is finished."), read by a logging
handler, so the run itself is TFX's, untouched. They are for the console only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from components import filesystem as fs
from pipelines.runners.base import Progress, Runner, RunOutcome
from pipelines.runners.logs import stderr_to

__all__ = ["LocalRunner"]


class _NodeEvents(logging.Handler):
    """Turns LocalDagRunner's log records into node events for ``Progress``."""

    def __init__(self, progress: Progress | None) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.current: str | None = None
        self.cached = False

    def emit(self, rec: logging.LogRecord) -> None:
        msg, args = rec.msg, rec.args
        if msg == "Component %s is running." and args:
            self.current, self.cached = str(args[0]), False
            if self.progress is not None:
                self.progress.started(self.current)
        elif msg == "A cached execution %d is used.":
            self.cached = True
        elif msg == "Component %s is finished." and args and self.current is not None:
            if self.progress is not None:
                self.progress.finished(self.current, cached=self.cached)
            self.current = None


class LocalRunner(Runner):
    """Run a built pipeline with TFX's LocalDagRunner; the full log goes to ``log_dir``.

    Args:
        log_dir: folder for this run's log file (``run-YYYYmmdd-HHMMSS.log``).
        verbose: show TFX/TensorFlow logs on the console too.

    Example:
        >>> outcome = LocalRunner("runs/ad_click/logs").run(build_pipeline(config))
        >>> collect(config, outcome).status
        'succeeded'
    """

    name = "local"

    def __init__(self, log_dir: str, *, verbose: bool = False) -> None:
        self.log_dir = log_dir
        self.verbose = verbose

    def run(self, pipeline: Any, progress: Progress | None = None) -> RunOutcome:
        started = time.monotonic()
        fs.makedirs(self.log_dir)
        log_path = fs.join(self.log_dir, datetime.now().strftime("run-%Y%m%d-%H%M%S.log"))
        dag_runner = _dag_runner(datetime.now().isoformat())
        events = _NodeEvents(progress)
        error = None
        with _logging_to(log_path, events, self.verbose):
            try:
                # C++ libraries (TFDV, TF, Beam) write to fd 2 directly: that goes to the log file too.
                with stderr_to(None if self.verbose else log_path):
                    dag_runner.run(pipeline)
            except Exception as exc:
                logging.getLogger(__name__).exception("pipeline failed")
                if progress is not None and events.current is not None:
                    progress.failed(events.current)
                error = _short_error(exc)
        return RunOutcome(
            run_id=dag_runner.run_id,
            engine=self.name,
            seconds=time.monotonic() - started,
            log_path=log_path,
            error=error,
        )


def _dag_runner(run_id: str) -> Any:
    """A LocalDagRunner that runs under ``run_id`` and records the id the run really got."""
    from tfx.dsl.compiler import constants
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.portable import runtime_parameter_utils

    class _RunIdDagRunner(LocalDagRunner):
        def __init__(self) -> None:
            super().__init__()
            self.run_id = run_id

        def run_with_ir(self, pipeline: Any, run_options: Any = None) -> None:
            # LocalDagRunner substitutes the run id only while it is still a runtime parameter.
            runtime_parameter_utils.substitute_runtime_parameter(
                pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id}
            )
            self.run_id = pipeline.runtime_spec.pipeline_run_id.field_value.string_value or run_id
            return super().run_with_ir(pipeline, run_options)

    return _RunIdDagRunner()


@contextlib.contextmanager
def _logging_to(log_path: str, events: logging.Handler, verbose: bool) -> Iterator[None]:
    """absl/TFX logs to the log file, node events to ``events``; the console gets only our lines
    (unless ``verbose``). Every level and handler is restored on exit."""
    from absl import logging as absl_logging

    absl_logger, root, tf_logger = logging.getLogger("absl"), logging.getLogger(), logging.getLogger("tensorflow")
    saved_levels = {h: h.level for h in root.handlers}
    saved_absl_level, saved_tf_level = absl_logger.level, tf_logger.level
    with fs.open_file(log_path, "a") as stream:
        file_handler = logging.StreamHandler(stream)
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        absl_logging.set_verbosity(absl_logging.INFO)
        absl_logger.setLevel(logging.INFO)
        if not verbose:  # absl's and TF's own stderr handlers: the console gets our lines, the file the rest
            tf_logger.setLevel(logging.ERROR)
            for h in root.handlers:
                h.setLevel(logging.CRITICAL + 1)
        root.addHandler(file_handler)
        absl_logger.addHandler(events)
        try:
            yield
        finally:
            absl_logger.removeHandler(events)
            root.removeHandler(file_handler)
            absl_logger.setLevel(saved_absl_level)
            tf_logger.setLevel(saved_tf_level)
            for h, level in saved_levels.items():
                h.setLevel(level)


def _short_error(exc: BaseException) -> str:
    """The innermost cause's message, which is where TFX keeps the useful part."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return f"{type(exc).__name__}: {first[:500]}"
