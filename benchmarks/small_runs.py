"""Fixed costs of a small (20k-row) run, before and after issue 17's cuts, side by side in one process.

    python -m benchmarks.small_runs --root /tmp/r/root --repeats 3

``--root`` is the pipeline root of a finished run of ``configs/ad_click.yaml`` (its newest Trainer
model and ExampleGen examples are used). Each cut is measured old/new alternately, so both see the
same machine load, with the 1-minute load average beside every figure:

- Beam executors: constructing each of the pipeline's four Beam executors with the run's DirectRunner
  args, TFX's classes (which copy TFX and run ``setup.py sdist`` first) against
  ``components.local_executors`` / ``components.evaluator`` (``components.local_beam``);
- Beam's pickler: ``pickler.dumps`` + ``pickler.loads`` of a small DoFn with dill's stock ``_trace``
  against ``components.local_beam.quiet_dill_trace`` (a cold 20k run makes about 10,600 such calls,
  counted with cProfile);
- infra check: the seconds the Pusher's ``check_model`` waits, with the checker prewarmed when the
  Evaluator starts (before) against the candidate also handed to it then (``start_check``, after);
  ``--evaluator-seconds`` stands for the evaluation in between;
- teardown: the summary's metrics read and the evaluation report, TFMA loading the Evaluator output
  twice (before) against once (``components.evaluation_results.load_result``, after).

Writes ``benchmarks/results/small_runs.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BEAM_ARGS = ["--runner=DirectRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"]
PICKLES_PER_RUN = 10_600  # dumps + loads in one cold 20k run of configs/ad_click.yaml (cProfile)


def _newest(root: Path, component: str, output: str) -> Path:
    folder = root / component / output
    return max(folder.iterdir(), key=lambda p: int(p.name))


def _timed(fn: Callable[[], Any]) -> tuple[float, float, float]:
    load = os.getloadavg()[0]
    start = time.monotonic()
    fn()
    return time.monotonic() - start, load, os.getloadavg()[0]


def executor_pairs() -> dict[str, tuple[type, type]]:
    """{component: (TFX's executor class, this project's)}."""
    from tfx.components.evaluator import executor as tfx_evaluator
    from tfx.components.statistics_gen import executor as tfx_statistics_gen
    from tfx.components.transform import executor as tfx_transform

    from components import csv_example_gen, evaluator, local_executors

    return {
        "CsvExampleGen": (csv_example_gen.Executor, local_executors.CsvExampleGenExecutor),
        "StatisticsGen": (tfx_statistics_gen.Executor, local_executors.StatisticsGenExecutor),
        "Transform": (tfx_transform.Executor, local_executors.TransformExecutor),
        "Evaluator": (tfx_evaluator.Executor, evaluator.Executor),
    }


def measure_executors(repeats: int) -> list[dict[str, Any]]:
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    rows = []
    for repeat in range(1, repeats + 1):
        for component, classes in executor_pairs().items():
            for setting, cls in zip(("before", "after"), classes, strict=True):
                with tempfile.TemporaryDirectory() as tmp:
                    context = BaseBeamExecutor.Context(beam_pipeline_args=list(BEAM_ARGS), tmp_dir=tmp)
                    built: list[Any] = []
                    seconds, load0, load1 = _timed(lambda cls=cls, context=context, b=built: b.append(cls(context)))
                _remove_ephemeral_package(built[0])
                rows.append(
                    _row("Beam executor construction", f"{component}, {setting}", repeat, seconds, load0, load1)
                )
    return rows


def _remove_ephemeral_package(executor: Any) -> None:
    """TFX leaves each sdist and its copy of TFX in a temporary folder: ``<tmp>/build/tfx/dist/...``."""
    from components import filesystem as fs

    for arg in executor._beam_pipeline_args:
        if str(arg).startswith("--extra_package=") and "/build/tfx/dist/" in str(arg):
            fs.rmtree(str(arg).split("=", 1)[1].split("/build/tfx/dist/")[0])


def measure_pickler(repeats: int, calls: int = 2000) -> list[dict[str, Any]]:
    import logging

    import apache_beam as beam
    from apache_beam.internal import pickler
    from dill import _dill

    from components.local_beam import _set_dill_trace

    executor_pairs()  # import what a run has imported by then: the cost grows with the number of loggers
    print(f"loggers in this process: {len(logging.Logger.manager.loggerDict)}", flush=True)
    stock = _dill._trace
    if stock is _set_dill_trace:
        raise RuntimeError("dill's _trace is already replaced: measure the pickler first")
    rows = []
    try:
        for repeat in range(1, repeats + 1):
            for setting, trace in (("before", stock), ("after", _set_dill_trace)):
                _dill._trace = trace

                def many() -> None:
                    for _ in range(calls // 2):
                        pickler.loads(pickler.dumps(beam.transforms.core.CallableWrapperDoFn(len)))

                seconds, load0, load1 = _timed(many)
                rows.append(_row(f"Beam pickler, {calls} calls", setting, repeat, seconds, load0, load1))
    finally:
        _dill._trace = stock
    return rows


def measure_infra_check(root: Path, repeats: int, evaluator_seconds: float) -> list[dict[str, Any]]:
    from tfx.types.standard_artifacts import Examples, Model

    from components import infra_check
    from components.evaluator import start_infra_check
    from components.pusher import INFRA_ROWS, infra_rows, serving_model_dir

    model = Model()
    model.uri = str(_newest(root, "Trainer", "model"))
    examples = Examples()
    examples.uri = str(_newest(root, "CsvExampleGen", "examples"))
    examples.split_names = '["train", "eval"]'
    model_dir = serving_model_dir(model)
    rows = infra_rows(model_dir, [examples], 10)[:INFRA_ROWS]
    out = []
    for repeat in range(1, repeats + 1):
        for setting in ("before", "after"):
            infra_check.prewarm()  # pipelines.execute: when the Evaluator starts
            if setting == "after":
                start_infra_check([model], [examples])  # components.evaluator: first thing in Do
            time.sleep(evaluator_seconds)  # the evaluation
            load0 = os.getloadavg()[0]
            start = time.monotonic()
            verdict = infra_check.check_model(model_dir, rows)
            seconds, load1 = time.monotonic() - start, os.getloadavg()[0]
            if not verdict.ok:
                raise RuntimeError(f"infra check failed: {verdict.reason}")
            out.append(_row("Pusher's infra check wait", setting, repeat, seconds, load0, load1))
    return out


def measure_teardown(root: Path, repeats: int) -> list[dict[str, Any]]:
    """The summary's and the report's reads of the Evaluator output: TFMA loads it twice (before) or once."""
    from components.evaluation_results import load_result, read_metrics
    from pipelines.results.reports import render_evaluation_report

    uri = str(_newest(root, "Evaluator", "evaluation"))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        render_evaluation_report(os.path.join(tmp, "e.html"), title="t", eval_result_uri=uri)  # imports, untimed
        for repeat in range(1, repeats + 1):
            for setting in ("before", "after"):
                load_result.cache_clear()

                def reads(setting: str = setting) -> None:
                    read_metrics(uri)  # pipelines.results.summary.read_evaluation
                    if setting == "before":
                        load_result.cache_clear()  # no cache: the report loads the folder again
                    render_evaluation_report(os.path.join(tmp, "e.html"), title="t", eval_result_uri=uri)

                seconds, load0, load1 = _timed(reads)
                out.append(_row("Teardown: summary + evaluation report", setting, repeat, seconds, load0, load1))
    return out


def _row(what: str, setting: str, repeat: int, seconds: float, load0: float, load1: float) -> dict[str, Any]:
    print(f"{what:32} {setting:26} {repeat} {seconds:8.3f} s  load {load0:.2f}/{load1:.2f}", flush=True)
    return {"what": what, "setting": setting, "repeat": repeat, "seconds": seconds, "load": (load0, load1)}


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "# Small runs: fixed costs before and after (issue 17)",
        "",
        f"`python -m benchmarks.small_runs --root {args.root} --repeats {args.repeats} "
        f"--evaluator-seconds {args.evaluator_seconds:g}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        "old and new alternate in one process, so both see the same load (1-minute load average before / after "
        "each figure; 2 cores, shared with other work).",
        "",
        "| what | setting | repeat | seconds | load |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['setting']} | {r['repeat']} | {r['seconds']:.3f} | "
            f"{r['load'][0]:.2f} / {r['load'][1]:.2f} |"
        )
    lines += ["", "Medians over the repeats:", ""]
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["what"], r["setting"]), []).append(r["seconds"])
    for (what, setting), values in groups.items():
        lines.append(f"- {what}, {setting}: {statistics.median(values):.3f} s")
    before = sum(
        statistics.median(v) for (w, s), v in groups.items() if w == "Beam executor construction" and "before" in s
    )
    after = sum(
        statistics.median(v) for (w, s), v in groups.items() if w == "Beam executor construction" and "after" in s
    )
    if before:
        lines.append(f"- the four Beam executors together: {before:.2f} s before, {after:.2f} s after, per run")
    pick = {s: statistics.median(v) for (w, s), v in groups.items() if w.startswith("Beam pickler")}
    if pick:
        calls = next(int(w.split()[2]) for (w, _s) in groups if w.startswith("Beam pickler"))
        saved = (pick["before"] - pick["after"]) / calls * PICKLES_PER_RUN
        lines.append(f"- Beam pickler: about {saved:.2f} s less per cold 20k run ({PICKLES_PER_RUN:,} calls)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.small_runs", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="pipeline root of a finished configs/ad_click.yaml run")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--evaluator-seconds", type=float, default=10.0, help="the evaluation between prewarm and push")
    p.add_argument("--skip", choices=["executors", "pickler", "infra", "teardown"], action="append", default=[])
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "small_runs.md"))
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    if "pickler" not in args.skip:
        rows += measure_pickler(args.repeats)
    if "executors" not in args.skip:
        rows += measure_executors(args.repeats)
    if "infra" not in args.skip:
        rows += measure_infra_check(Path(args.root), args.repeats, args.evaluator_seconds)
    if "teardown" not in args.skip:
        rows += measure_teardown(Path(args.root), args.repeats)
    Path(args.out).write_text(report(rows, args), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
