"""One function runs a pipeline from a loaded config to its summary: ``run_pipeline``.

Every command that runs a pipeline calls it; the command only parses arguments, prints the
summary table and maps errors to exit codes. The steps, in order:

    check_environment   the data, schema and modules the config names exist     ConfigError (exit 2)
    fast path           nothing changed since the last success: say so, no TFX, nothing pushed
    preflight           every input file reads as this pipeline's CSV            PreflightError (exit 3)
    stage schema, build the same tfx.dsl.Pipeline for every engine
    run                 the engine (runners/): progress lines, a RunOutcome
    collect             the summary, from ML Metadata and the artifacts
    reports, summary JSON, run record (succeeded runs only)

``run_pipeline`` raises only for what stops a run before it starts (config, preflight); how a
run ended is the summary's status, turned into an error by ``RunSummary.raise_for_status``.

Example:
    >>> summary = run_pipeline(load_config("configs/ad_click.yaml"), RunOptions(until="validate"))
    >>> print(format_table(summary))
    >>> summary.raise_for_status()  # DataBlockedError when a gate blocked the data
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, TextIO

from components import filesystem as fs
from components import infra_check  # light: subprocess only, TensorFlow loads in its child
from pipelines.build import build_pipeline, component_nodes, stage_schema, stop_nodes
from pipelines.config import PipelineConfig
from pipelines.data.environment import check_environment
from pipelines.data.preflight import preflight
from pipelines.errors import PreflightError
from pipelines.results.records import cached_summary, record_success
from pipelines.results.summary import RunSummary, collect, preflight_summary
from pipelines.runners import ENGINES as _ENGINES
from pipelines.runners import runner_class
from pipelines.runners.base import Progress
from pipelines.runners.logs import quiet_libraries

__all__ = ["ENGINES", "RunOptions", "run_pipeline"]

ENGINES = tuple(_ENGINES)  # pipelines.runners.ENGINES: one module per engine


@dataclass(frozen=True)
class RunOptions:
    """How to run (the ``pipelines.run`` flags).

    Attributes:
        until: ``"validate"`` runs ingestion through the data gate only; None runs everything.
        verbose: show TFX/TensorFlow logs on the console.
        fast_path: answer an unchanged rerun from the last success without starting TFX.
        summary_path: also write the summary as JSON here (for preflight stops too).
        engine: which runner runs the pipeline (``local``); None: the config's ``runner``.
        trigger: why the run was started (``pipelines.monitor --retrain``), recorded in the summary.
    """

    until: str | None = None
    verbose: bool = False
    fast_path: bool = True
    summary_path: str | None = None
    engine: str | None = None
    trigger: dict[str, Any] | None = None


def run_pipeline(config: PipelineConfig, options: RunOptions = RunOptions(), out: TextIO | None = None) -> RunSummary:
    """Run ``config``'s pipeline as ``options`` say; progress lines go to ``out`` (default stdout).

    Returns:
        The run's summary; its ``status`` says how it ended (succeeded, failed, blocked).

    Raises:
        ConfigError: a file or module the config names is missing or unreadable.
        PreflightError: an input file cannot be read as this CSV (the summary JSON is written first).
    """
    started = time.monotonic()
    options = replace(options, engine=options.engine or config.runner)
    _runner(config, options).check()  # an engine that does not run here says so now (exit 2)
    from components import gcs  # light: google-cloud-storage loads on the first gs:// access

    gcs.set_project(config.gcp.project)  # credentials stay the environment's (ADC); only the project
    check_environment(config)
    if options.fast_path:
        cached = _unchanged(config, options, out, started)
        if cached is not None:
            return cached
    try:
        files = preflight(config)
    except PreflightError as exc:
        if options.summary_path:
            write_summary(options.summary_path, preflight_summary(config, exc.problems, str(exc)))
        raise
    _print(out, f"input: {len(files)} file(s) checked")
    summary = _run(config, options, out)
    summary.trigger = options.trigger
    from pipelines.results.reports.write import write_reports

    summary.reports = write_reports(config, summary)
    if summary.run_id is not None:  # the validated config and the engine's word, for pipelines.runs
        from pipelines.history.record import record_run

        record_run(config, summary, engine=options.engine, until=options.until)
    if options.summary_path:
        write_summary(options.summary_path, summary)
    if summary.status == "succeeded":
        record_success(config, options.until, asdict(summary))
    return summary


def _run(config: PipelineConfig, options: RunOptions, out: TextIO | None) -> RunSummary:
    """Build, run on the chosen engine, and collect the summary from ML Metadata."""
    started = time.monotonic()
    quiet_libraries(options.verbose)  # before TensorFlow is imported by the build
    stage_schema(config)
    pipeline = build_pipeline(config, options.until)
    runner = _runner(config, options)
    progress = Progress(component_nodes(config), out, on_start=_prewarm(config, options), stop_nodes=stop_nodes(config))
    try:
        outcome = runner.run(pipeline, progress)
    finally:
        infra_check.discard_warm()  # a prewarmed checker the Pusher did not use
    summary = collect(config, outcome)
    # The total the command reports: TFX's import and the build count too, as they always have.
    summary.seconds = round(time.monotonic() - started, 1)
    return summary


def _prewarm(config: PipelineConfig, options: RunOptions) -> dict[str, Any]:
    """The Pusher's infra check runs in a child process whose TensorFlow import (about 8 s) overlaps
    the Evaluator, the stage that competes least for the second core (started earlier, the import
    slowed ExampleGen, StatisticsGen and Transform by as much as it saved)."""
    if options.until is None and options.engine == "local" and config.push.infra_validation:
        return {"Evaluator": infra_check.prewarm}
    return {}


def _runner(config: PipelineConfig, options: RunOptions) -> Any:
    runner = runner_class(options.engine or config.runner)
    if runner.name == "local":
        return runner(_log_dir(config), verbose=options.verbose)
    return runner()


def _log_dir(config: PipelineConfig) -> str:
    """A run's log is appended to as it runs, which an object store cannot do: with a ``gs://``
    root it goes beside ML Metadata (also local, see ``PipelineConfig.metadata_path``)."""
    if fs.is_remote(config.pipeline.root):
        return fs.join(fs.dirname(config.metadata_path), "logs")
    return fs.join(config.pipeline.root, "logs")


def _unchanged(config: PipelineConfig, options: RunOptions, out: TextIO | None, started: float) -> RunSummary | None:
    """This invocation's summary when nothing changed since the last success, else None.

    Every component ``cached``, nothing pushed, ``seconds`` this invocation's own (from ``started``);
    the recorded run's id, seconds and push under ``unchanged_since`` (``records.unchanged_summary``).
    """
    cached = cached_summary(config, options.until)
    if cached is None:
        return None
    summary = RunSummary(**cached)
    _replay(summary.components, out)
    summary.seconds = round(time.monotonic() - started, 1)
    if options.summary_path:
        write_summary(options.summary_path, summary)
    return summary


def _replay(components: Sequence[Mapping[str, Any]], out: TextIO | None) -> None:
    """One end line per recorded component, as the engine's progress prints them."""
    progress = Progress({c["name"]: [c["name"]] for c in components}, out)
    for c in components:
        progress.ended(c["name"], c["status"], float(c["seconds"]))


def write_summary(path: str, summary: RunSummary) -> None:
    """Write the summary JSON atomically: a reader never sees half a summary."""
    fs.write_text(path, summary.to_json() + "\n")


def _print(out: TextIO | None, text: str) -> None:
    print(text, file=out or sys.stdout, flush=True)
