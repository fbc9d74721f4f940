"""Can tuning trials run in parallel on this machine? Trials one after another vs two processes at once.

Uses the Transform output of a finished ``configs/ad_click_tuning.yaml`` run (``make run``, then
``python -m pipelines.run --config configs/ad_click_tuning.yaml``) and the real ``components.tuner.tuner_fn``:

- sequential: one process searches ``2 * trials`` trials;
- parallel: two processes search ``trials`` trials each (different seeds), started together.

Each process imports TensorFlow first and waits at a barrier, so the figures are the searches' wall
times only (the baseline fit is not timed). Two independent searches are an upper bound for what
keras-tuner's distributed mode (a chief oracle and workers on one machine) could give: no coordination.

    python -m benchmarks.tuning_parallel --trials 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _latest(folder: Path) -> str:
    return str(max(folder.iterdir(), key=lambda p: int(p.name)))


def _worker(config_path: str, trials: int, seed: int, go: str) -> None:
    from google.protobuf import json_format
    from tfx.components.trainer import fn_args_utils
    from tfx.proto import trainer_pb2
    from tfx.types import standard_artifacts

    from components.tuner import tuner_fn
    from pipelines.config import load_config

    config = load_config(config_path)
    root = Path(config.pipeline.root)
    examples, graph, schema = (
        standard_artifacts.Examples(),
        standard_artifacts.TransformGraph(),
        standard_artifacts.Schema(),
    )
    examples.uri = _latest(root / "CsvExampleGen" / "examples")
    examples.split_names = json.dumps(["train", "eval"])
    graph.uri = _latest(root / "Transform" / "transform_graph")
    schema.uri = _latest(root / "ImportSchemaGen" / "schema")
    tuning = {**config.tuning.tuner_spec(), "max_trials": trials, "seed": seed}
    exec_properties = {
        "train_args": json_format.MessageToJson(trainer_pb2.TrainArgs(num_steps=config.tuning.steps_per_trial)),
        "eval_args": json_format.MessageToJson(trainer_pb2.EvalArgs(num_steps=config.trainer.eval_steps)),
        "custom_config": json.dumps({**config.trainer_spec(), "tuning": tuning}),
    }
    with tempfile.TemporaryDirectory() as work:
        fn_args = fn_args_utils.get_common_fn_args(
            {"examples": [examples], "transform_graph": [graph], "schema": [schema]}, exec_properties, work
        )
        tuner = tuner_fn(fn_args).tuner
        tuner.train({}, 1)  # warm: datasets built, first graph traced, as the baseline does in a real run
        Path(go + f".ready{seed}").touch()
        while not Path(go).exists():
            time.sleep(0.05)
        start = time.monotonic()
        type(tuner).__mro__[1].search(tuner, verbose=0)  # BaseTuner.search: the trials, no baseline
        print(json.dumps({"seed": seed, "seconds": time.monotonic() - start, "trials": len(tuner.oracle.trials)}))


def _run(config: str, plan: list[tuple[int, int]]) -> float:
    """Start one worker per (trials, seed), release them together; wall seconds until all are done."""
    go = tempfile.mktemp(prefix="tuning-go-")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.tuning_parallel", "--worker", config, str(t), str(s), go],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for t, s in plan
    ]
    while not all(Path(go + f".ready{s}").exists() for _, s in plan):
        time.sleep(0.1)
    start = time.monotonic()
    Path(go).touch()
    outs = [p.communicate()[0] for p in procs]
    wall = time.monotonic() - start
    for path in [go, *(go + f".ready{s}" for _, s in plan)]:
        os.unlink(path)
    for out in outs:
        print("  ", out.strip().splitlines()[-1])
    return wall


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        config, trials, seed, go = sys.argv[2:6]
        _worker(config, int(trials), int(seed), go)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/ad_click_tuning.yaml")
    parser.add_argument("--trials", type=int, default=2, help="trials per process in the parallel case")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    sequential = _run(args.config, [(2 * args.trials, 0)])
    print(f"sequential: {2 * args.trials} trials in one process: {sequential:.1f} s")
    parallel = _run(args.config, [(args.trials, 1), (args.trials, 2)])
    print(f"parallel: 2 processes x {args.trials} trials: {parallel:.1f} s ({sequential / parallel:.2f}x)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
