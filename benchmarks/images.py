"""Ads with banners against the same rows without them: run time, peak RSS and eval AUC of both runs.

    python -m benchmarks.images [--rows 20000] [--data DIR] [--train-steps 1500]

Generates ``--rows`` ads with banners (``datagen ad_click --images``, seed 7) unless ``--data``
holds them, then runs ``configs/ad_click_images.yaml`` twice, one after the other, on the same
rows: as written, and with ``features.image_path=drop`` (the image column read as a path and
not used; the same train/eval split, ExampleGen splits before it reads images). Each run is a
monitored subprocess (``benchmarks/monitor.py``: wall time, peak RSS of the process tree, CPU
seconds) with its own pipeline root; the load average is recorded beside each figure. Writes
``benchmarks/results/images.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RUNS = {"with images": [], "image dropped": ["features.image_path=drop"]}


def main(argv: list[str] | None = None) -> int:
    from benchmarks.monitor import run_monitored
    from pipelines.data.generators.ad_images import IMAGE_MARGIN, write_ad_click_images

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--data", help="a folder of ads with banners (default: generate into a temporary one)")
    parser.add_argument("--train-steps", type=int, default=1500)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-images-"))
    data = args.data or str(root / "data")
    if not args.data:
        write_ad_click_images(data, args.rows, seed=7)
    rows = []
    for name, overrides in RUNS.items():
        out = root / name.replace(" ", "_")
        settings = [
            f"data.source={data}",
            f"pipeline.root={out}",
            f"push.serving_dir={out / 'serving'}",
            f"trainer.train_steps={args.train_steps}",
            *overrides,
        ]
        cmd = [sys.executable, "-m", "pipelines.run", "--config", "configs/ad_click_images.yaml"]
        cmd += ["--summary", str(out / "summary.json"), *[a for s in settings for a in ("--set", s)]]
        load = os.getloadavg()[0]
        result = run_monitored(cmd, cwd=str(REPO), timeout=7200, log_path=str(root / f"{out.name}.log"))
        summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
        rows.append(
            {
                "run": name,
                "status": result.status,
                "wall": result.wall,
                "cpu": result.cpu_seconds,
                "rss": result.peak_rss / 2**20,
                "proc_rss": result.max_proc_rss / 2**20,
                "auc": summary.get("metrics", {}).get("auc", float("nan")),
                "components": {c["name"]: c["seconds"] for c in summary.get("components", [])},
                "load": (load, os.getloadavg()[0]),
            }
        )
        print(rows[-1], flush=True)
    write_report(rows, args, IMAGE_MARGIN)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def write_report(rows: list[dict], args: argparse.Namespace, margin: float) -> None:
    lines = [
        "# Ads with banners vs the same rows without them",
        "",
        f"`python -m benchmarks.images --rows {args.rows} --train-steps {args.train_steps}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores. The generator's rule: "
        f"0.917 AUC with the image, 0.848 without (margin {margin}).",
        "",
        "| run | status | wall s | CPU s | RSS tree MiB | max proc MiB | eval AUC | load start/end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['status']} | {r['wall']:.0f} | {r['cpu']:.0f} | {r['rss']:.0f} | "
            f"{r['proc_rss']:.0f} | {r['auc']:.4f} | {r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    names = list(rows[0]["components"]) if rows else []
    lines += ["", "Component seconds:", "", "| component | " + " | ".join(r["run"] for r in rows) + " |"]
    lines.append("|---|" + "---|" * len(rows))
    for c in names:
        lines.append(f"| {c} | " + " | ".join(f"{r['components'].get(c, 0):.1f}" for r in rows) + " |")
    (REPO / "benchmarks" / "results" / "images.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
