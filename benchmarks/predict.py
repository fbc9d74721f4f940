"""``pipelines.predict`` (a Beam job with RunInference) against the floor: the same signature in-process.

    python benchmarks/predict.py [--rows 2000000] [--model SAVED_MODEL_DIR]

Generates ``--rows`` ad-click rows (CSV), pushes the model to a temporary serving dir, and runs
``python -m pipelines.predict`` on them as a monitored subprocess (``benchmarks/monitor.py``:
wall time and peak RSS of the whole process tree). The floor is ``serving_default`` called in
a subprocess on the same rows in batches of 256 with ready-made tensors (reading the CSV with
pandas excluded). Goals (issue 16): within 3x of the floor, peak RSS under 4 GB. Without
``--model`` it uses the toy model of ``tests/serving/toy_model.py``. Writes
``benchmarks/results/predict.md``.

Both children get a bytecode cache (``PYTHONPYCACHEPREFIX``, warmed by one import run first):
with ``PYTHONDONTWRITEBYTECODE`` set and no ``.pyc`` in the venv, every import would compile
TensorFlow's and Beam's sources again (~30 s on a loaded 2-core machine), which a deployed
job never pays.
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


def child_env(cache: Path) -> dict[str, str]:
    """The environment of the measured children: a bytecode cache of their own (see the module doc)."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache)}


WARM = "import apache_beam, pandas, pyarrow.csv, tensorflow, pipelines.predict, pipelines.monitoring.batch"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--model", help="a SavedModel with the trainer's serving_default (default: the toy model)")
    parser.add_argument("--pycache", default=str(Path(tempfile.gettempdir()) / "benchmark-pycache"))
    args = parser.parse_args()
    import subprocess

    from benchmarks.monitor import run_monitored

    env = child_env(Path(args.pycache))
    subprocess.run([sys.executable, "-c", WARM], cwd=str(REPO), env=env, check=True, capture_output=True)
    load_before = os.getloadavg()[0]
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
             str(root / "out")], cwd=str(REPO), env=env,
        )  # fmt: skip
        floor = run_monitored([sys.executable, "-c", FLOOR, str(root / "serving" / "ad_click" / "1"), data], env=env)
        scored = sum(max(0, f.read_text().count("\n") - 1) for f in (root / "out").glob("predictions-*.csv"))
    floor_s = next(float(line.split()[1]) for line in floor.stdout_tail if line.startswith("FLOOR"))
    lines = [
        f"# pipelines.predict on {args.rows:,} rows ({'toy model' if args.model is None else args.model})",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; one run; load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (shared with other jobs)",
        "",
        "| | seconds | peak RSS (GB) |",
        "|---|---|---|",
        f"| `pipelines.predict` (DirectRunner, whole command) | {job.wall:.1f} | {job.peak_rss / 1e9:.2f} |",
        f"| in-process `serving_default`, batches of 256 (calls only) | {floor_s:.1f} | {floor.peak_rss / 1e9:.2f} |",
        "",
        f"Ratio {job.wall / floor_s:.2f}x (goal: within 3x); peak RSS goal under 4 GB; job status {job.status}, "
        f"{scored:,} rows scored.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if job.status != "ok":
        print("\n".join(job.stderr_tail[-20:]))
    (REPO / "benchmarks" / "results" / "predict.md").write_text(text)
    return 0 if job.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
