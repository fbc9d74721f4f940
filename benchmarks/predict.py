"""``pipelines.predict`` (a Beam job with RunInference) against the floor: the same signature in-process.

    python benchmarks/predict.py [--rows 2000000] [--model SAVED_MODEL_DIR]

Generates ``--rows`` ad-click rows (CSV), pushes the model to a temporary serving dir, and runs
``python -m pipelines.predict`` on them as a monitored subprocess (``benchmarks/monitor.py``:
wall time and peak RSS of the whole process tree). The floor is ``serving_default`` called in
a subprocess on the same rows in batches of 256 with ready-made tensors (reading the CSV with
pandas excluded). Goals (issue 16): within 3x of the floor, peak RSS under 4 GB. Without
``--model`` it uses the toy model of ``tests/serving/toy_model.py``. Writes
``benchmarks/results/predict.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FLOOR = """
import sys, time
import numpy as np, pandas as pd, tensorflow as tf
model = tf.saved_model.load(sys.argv[1]); sig = model.signatures["serving_default"]
specs = sig.structured_input_signature[1]
df = pd.read_csv(sys.argv[2], keep_default_na=False)
cols = {k: df[k].to_numpy().astype(str if s.dtype == tf.string else s.dtype.as_numpy_dtype) for k, s in specs.items()}
start = time.perf_counter()
for i in range(0, len(df), 256):
    sig(**{k: tf.constant(v[i:i + 256], dtype=specs[k].dtype) for k, v in cols.items()})
print("FLOOR", time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--model", help="a SavedModel with the trainer's serving_default (default: the toy model)")
    args = parser.parse_args()
    from benchmarks.monitor import run_monitored
    from components import serving_layout as sl
    from pipelines.data.generators import write_ad_click

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = args.model
        if model is None:
            from tests.serving.toy_model import build_toy_model

            model = build_toy_model(root / "toy", 1.0)
        sl.publish_version(model, root / "serving", "ad_click", version=1)
        sl.write_models_config(root / "serving", pins={"ad_click": 1})
        data = write_ad_click(str(root / "data"), args.rows, seed=7)[0]
        cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
        cfg["push"]["serving_dir"] = str(root / "serving")
        cfg["data"]["source"] = str(root / "data")
        cfg["pipeline"]["root"] = str(root / "root")
        cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
        config = root / "c.yaml"
        config.write_text(yaml.safe_dump(cfg))
        job = run_monitored(
            [sys.executable, "-m", "pipelines.predict", "--config", str(config), "--data", data, "--out",
             str(root / "out")], cwd=str(REPO),
        )  # fmt: skip
        floor = run_monitored([sys.executable, "-c", FLOOR, str(root / "serving" / "ad_click" / "1"), data])
    floor_s = next(float(line.split()[1]) for line in floor.stdout_tail if line.startswith("FLOOR"))
    lines = [
        f"# pipelines.predict on {args.rows:,} rows ({'toy model' if args.model is None else args.model})",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; one run",
        "",
        "| | seconds | peak RSS (GB) |",
        "|---|---|---|",
        f"| `pipelines.predict` (DirectRunner, whole command) | {job.wall:.1f} | {job.peak_rss / 1e9:.2f} |",
        f"| in-process `serving_default`, batches of 256 (calls only) | {floor_s:.1f} | {floor.peak_rss / 1e9:.2f} |",
        "",
        f"Ratio {job.wall / floor_s:.1f}x (goal: within 3x); job status {job.status}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if job.status != "ok":
        print("\n".join(job.stderr_tail[-20:]))
    (REPO / "benchmarks" / "results" / "predict.md").write_text(text)
    return 0 if job.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
