"""Transform and Evaluator with the settings before and after issue 17, side by side on one run's inputs.

    python -m benchmarks.transform_evaluator --root runs/ad_click --data data/ad_click
    python -m benchmarks.transform_evaluator --root /tmp/r --data /tmp/d --repeats 2 --baseline

Runs the real TFX executors in this process on a finished pipeline run's artifacts (the newest
ExampleGen examples, schema and Trainer model under ``--root``), alternating the two settings so
both see the same machine load:

- Transform: ``materialize=True`` and whole pre-transform statistics (before) against
  ``materialize=False`` (the Trainer applies the Transform graph in tf.data) and pre-transform
  statistics of the label only (``components.transform.stats_options_updater_fn``: after);
  statistics on as ``validation.post_transform`` says;
- Evaluator: an EvalConfig without ``ModelSpec.model_type`` (TFMA loads each model as a Keras
  model to learn its type, then again as Keras: before) against ``model_type: tf_generic``
  (one plain SavedModel load: after). ``--baseline`` adds a copy of the model as the baseline,
  as in a run after the first.

Writes ``benchmarks/results/transform_evaluator.md`` (``--out``) with the load average beside
every figure: other work on the machine inflates them all.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BEAM_ARGS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def _newest(root: Path, component: str, output: str) -> str:
    folder = root / component / output
    return str(max(folder.iterdir(), key=lambda p: int(p.name)))


def _artifact(kind: str, uri: str, splits: list[str] | None = None) -> Any:
    from tfx.types import standard_artifacts

    a = getattr(standard_artifacts, kind)()
    a.uri = uri
    if splits:
        a.split_names = json.dumps(splits)
    return a


def _context(tmp: str) -> Any:
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    return BaseBeamExecutor.Context(beam_pipeline_args=BEAM_ARGS, tmp_dir=tmp)


def run_transform(config: Any, root: Path, after: bool, work: str) -> float:
    from tfx.components.transform.executor import Executor

    from pipelines.build.pipeline import GENERIC_PREPROCESSING_FN, GENERIC_STATS_OPTIONS_FN

    examples = _newest(root, "CsvExampleGen", "examples")
    schema = _newest(root, "ImportSchemaGen" if config.schema_.path else "SchemaGen", "schema")
    outputs = {"transform_graph": [_artifact("TransformGraph", os.path.join(work, "graph"))]}
    for name in ("pre_transform_schema", "pre_transform_stats", "post_transform_schema", "post_transform_stats"):
        kind = "Schema" if name.endswith("schema") else "ExampleStatistics"
        outputs[name] = [_artifact(kind, os.path.join(work, name))]
    outputs["post_transform_anomalies"] = [_artifact("ExampleAnomalies", os.path.join(work, "anomalies"))]
    if not after:
        outputs["transformed_examples"] = [_artifact("Examples", os.path.join(work, "examples"), ["train", "eval"])]
    props = {
        "preprocessing_fn": GENERIC_PREPROCESSING_FN,
        "custom_config": json.dumps(config.transform_spec()),
        "disable_statistics": int(not config.validation.post_transform),
        "force_tf_compat_v1": 0,
    }
    if after:
        props["stats_options_updater_fn"] = GENERIC_STATS_OPTIONS_FN
    inputs = {"examples": [_artifact("Examples", examples, ["train", "eval"])], "schema": [_artifact("Schema", schema)]}
    start = time.monotonic()
    Executor(_context(os.path.join(work, "tmp"))).Do(inputs, outputs, props)
    return time.monotonic() - start


def run_evaluator(config: Any, root: Path, model_type: str, baseline: bool, work: str) -> float:
    from google.protobuf import json_format

    from components import filesystem as fs
    from components.evaluator import Executor
    from pipelines.build.evaluation import eval_config

    ec = eval_config(config)
    ec.model_specs[0].model_type = model_type  # "" = TFMA finds the type by loading the model as Keras
    model = _newest(root, "Trainer", "model")
    inputs = {
        "examples": [_artifact("Examples", _newest(root, "CsvExampleGen", "examples"), ["train", "eval"])],
        "model": [_artifact("Model", model)],
    }
    if baseline:  # another URI: components.evaluator drops a baseline that is the candidate itself
        for path in fs.walk_files(model):
            fs.copy(path, os.path.join(work, "baseline", os.path.relpath(path, model)))
        inputs["baseline_model"] = [_artifact("Model", os.path.join(work, "baseline"))]
    outputs = {
        "evaluation": [_artifact("ModelEvaluation", os.path.join(work, "evaluation"))],
        "blessing": [_artifact("ModelBlessing", os.path.join(work, "blessing"))],
    }
    props = {"eval_config": json_format.MessageToJson(ec), "example_splits": json.dumps(["eval"])}
    start = time.monotonic()
    Executor(_context(os.path.join(work, "tmp"))).Do(inputs, outputs, props)
    return time.monotonic() - start


CASES = {
    ("Transform", "before: materialised, all pre-stats"): lambda c, r, b, w: run_transform(c, r, False, w),
    ("Transform", "after: not materialised, label pre-stats"): lambda c, r, b, w: run_transform(c, r, True, w),
    ("Evaluator", "before: model_type unset (Keras loads)"): lambda c, r, b, w: run_evaluator(c, r, "", b, w),
    ("Evaluator", "after: model_type tf_generic"): lambda c, r, b, w: run_evaluator(c, r, "tf_generic", b, w),
}


def _report(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [
        "# Transform and Evaluator: before and after issue 17",
        "",
        f"`python -m benchmarks.transform_evaluator --root {args.root} --data {args.data} --repeats {args.repeats}"
        + (" --baseline" if args.baseline else "")
        + "`; the two settings of each component alternate in one process, so both see the same load.",
        "",
        "| component | setting | repeat | seconds | load average (1 min) before / after |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['component']} | {r['setting']} | {r['repeat']} | {r['seconds']:.1f} | "
            f"{r['load_before']:.2f} / {r['load_after']:.2f} |"
        )
    lines.append("")
    for component in dict.fromkeys(r["component"] for r in rows):
        mine = [r for r in rows if r["component"] == component]
        before = sum(r["seconds"] for r in mine if r["setting"].startswith("before"))
        after = sum(r["seconds"] for r in mine if r["setting"].startswith("after"))
        if before:
            lines.append(f"- {component}: after / before = {after / before:.2f}x (sums over the repeats)")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.transform_evaluator", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="pipeline root of a finished run")
    p.add_argument("--data", required=True, help="the CSV folder that run read (the config needs it)")
    p.add_argument("--config", default="configs/ad_click.yaml")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--baseline", action="store_true", help="evaluate with a baseline model (a copy of the model)")
    p.add_argument("--only", choices=["Transform", "Evaluator"], default=None)
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "transform_evaluator.md"))
    args = p.parse_args(argv)

    from pipelines.config import load_config

    config = load_config(args.config, [f"data.source={args.data}", f"pipeline.root={args.root}"])
    rows: list[dict] = []
    for repeat in range(1, args.repeats + 1):
        for (component, setting), case in CASES.items():
            if args.only and component != args.only:
                continue
            load_before = os.getloadavg()[0]
            with tempfile.TemporaryDirectory() as work:
                seconds = case(config, Path(args.root), args.baseline, work)
            rows.append(
                {
                    "component": component,
                    "setting": setting,
                    "repeat": repeat,
                    "seconds": seconds,
                    "load_before": load_before,
                    "load_after": os.getloadavg()[0],
                }
            )
            print(f"{component:10} {setting:42} {seconds:7.1f} s  load {load_before:.2f}", flush=True)
            Path(args.out).write_text(_report(rows, args), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
