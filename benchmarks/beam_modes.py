"""Beam's DirectRunner modes on this machine: ``in_memory`` against ``multi_processing``.

    python -m benchmarks.beam_modes                                  # 20k, 200k full; 2M until validate
    python -m benchmarks.beam_modes --full 20000 --validate 2000000 --budget 1500

Each size is one cold run per mode (a fresh pipeline root, no cache, no fast path) through
``python -m pipelines.run``; ``--validate`` sizes stop after the data gate (ExampleGen and
StatisticsGen are the Beam work there). ``multi_processing`` runs with
``direct_num_workers: 0`` (one worker per core). Per-component seconds come from each run's
summary JSON (ML Metadata). Results: ``benchmarks/results/beam_modes.{json,md}``, with the
load average before and after each run: other work on the machine inflates every figure.
Runs that would start after ``--budget`` seconds are skipped and listed as such.
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

import yaml

from pipelines.data.generators import write_ad_click

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
MODES = {
    "in_memory": ["beam.direct_running_mode=in_memory", "beam.direct_num_workers=1"],
    "multi_processing": ["beam.direct_running_mode=multi_processing", "beam.direct_num_workers=0"],
}
BEAM = ("CsvExampleGen", "StatisticsGen", "Transform", "Evaluator")


def _config(root: Path, data: Path, train_steps: int) -> Path:
    cfg = yaml.safe_load((REPO / "configs" / "ad_click.yaml").read_text())
    cfg["pipeline"]["root"] = str(root / "pipeline")
    cfg["data"]["source"] = str(data)
    cfg["schema"]["path"] = str(REPO / "schemas" / "ad_click" / "schema.pbtxt")
    cfg["push"]["serving_dir"] = str(root / "serving")
    cfg["trainer"].update(train_steps=train_steps, eval_steps=10)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "ad_click.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _run(work: Path, data: Path, rows: int, mode: str, until: str | None, train_steps: int) -> dict:
    root = work / f"{rows}-{mode}-{until or 'full'}"
    config = _config(root, data, train_steps)
    summary = root / "summary.json"
    cmd = [sys.executable, "-m", "pipelines.run", "--config", str(config), "--summary", str(summary), "--no-fast-path"]
    for override in MODES[mode]:
        cmd += ["--set", override]
    if until:
        cmd += ["--until", until]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    data_out = json.loads(summary.read_text()) if summary.exists() else {}
    seconds = {c["name"]: c["seconds"] for c in data_out.get("components", [])}
    return {
        "rows": rows,
        "mode": mode,
        "until": until or "full",
        "exit": proc.returncode,
        "status": data_out.get("status"),
        "wall_s": round(wall, 1),
        "beam_s": round(sum(seconds.get(n, 0.0) for n in BEAM), 1),
        "components_s": seconds,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "error": None if proc.returncode == 0 else (proc.stderr or proc.stdout)[-500:],
    }


def _table(results: list[dict]) -> str:
    lines = [
        f"# Beam DirectRunner modes ({os.cpu_count()} cores)",
        "",
        "| rows | run | mode | exit | wall s | ExampleGen | StatisticsGen | Transform | Evaluator | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("skipped"):
            lines.append(f"| {r['rows']} | {r['until']} | {r['mode']} | skipped (budget) | | | | | | |")
            continue
        c = r["components_s"]
        cells = " | ".join(str(c.get(n, "")) for n in BEAM)
        load = f"{r['load_before']} / {r['load_after']}"
        lines.append(f"| {r['rows']} | {r['until']} | {r['mode']} | {r['exit']} | {r['wall_s']} | {cells} | {load} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", default="20000,200000", help="row counts for full runs (comma-separated)")
    parser.add_argument("--validate", default="2000000", help="row counts for --until validate runs")
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--budget", type=float, default=1500.0, help="start no run after this many seconds")
    parser.add_argument("--out", default=str(RESULTS), help="folder for beam_modes.json and beam_modes.md")
    args = parser.parse_args(argv)
    plan = [(int(n), None) for n in args.full.split(",") if n] + [
        (int(n), "validate") for n in args.validate.split(",") if n
    ]
    started, results = time.monotonic(), []
    with tempfile.TemporaryDirectory(prefix="beam-modes-") as tmp:
        work = Path(tmp)
        for rows, until in plan:
            data = work / f"data-{rows}"
            if not data.exists() and time.monotonic() - started < args.budget:
                write_ad_click(str(data), rows, seed=7)
            for mode in MODES:
                if time.monotonic() - started > args.budget:
                    results.append({"rows": rows, "mode": mode, "until": until or "full", "skipped": True})
                    continue
                result = _run(work, data, rows, mode, until, args.train_steps)
                results.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "components_s"}), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "beam_modes.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "beam_modes.md").write_text(_table(results))
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
