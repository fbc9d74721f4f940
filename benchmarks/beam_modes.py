"""Beam's DirectRunner modes on this machine: ``in_memory`` against ``multi_processing``.

    python -m benchmarks.beam_modes                                  # 20k, 200k full; 2M until validate
    python -m benchmarks.beam_modes --full 20000 --validate 2000000 --budget 1500
    python -m benchmarks.beam_modes --full 200000 --validate "" --modes multi_processing --merge --work /tmp/bm

Each size is one cold run per mode (a fresh pipeline root, no cache, no fast path) through
``python -m pipelines.run``; ``--validate`` sizes stop after the data gate (ExampleGen and
StatisticsGen are the Beam work there). ``multi_processing`` runs with
``direct_num_workers: 0`` (one worker per core). Per-component seconds come from each run's
summary JSON (ML Metadata). Results: ``benchmarks/results/beam_modes.{json,md}``, with the
load average before and after each run: other work on the machine inflates every figure.
Runs that would start after ``--budget`` seconds are skipped and listed as such; a run that
goes past ``--timeout`` (or past ``--stop-after`` seconds from the start) is stopped and listed
with the components its progress lines show as ended. Each run's output goes to ``run.log`` in
its folder (``--work`` keeps them); ``--merge`` replaces only this invocation's rows in the
results, and the results are written after every run. Each row records the commit and the
files changed against it when the run started (other work may be changing the tree).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
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
ENDED = re.compile(r"^\[\s*\d+/\d+\]\s+(\w+)\s+(ran|cached|failed|blocked)\s+([\d.]+) s$")


def _tree() -> str:
    """``<commit>`` plus ``+<file>`` for each file changed against it (the code a run used)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    diff = subprocess.run(["git", "diff", "--name-only", "HEAD"], cwd=REPO, capture_output=True, text=True)
    changed = [f"+{f}" for f in diff.stdout.split() if f.startswith(("components/", "pipelines/"))]
    return " ".join([head.stdout.strip() or "?", *changed])


def ended_components(log: str) -> dict[str, float]:
    """Component -> seconds, from the progress lines of a run's output (those that ended).

    Example:
        >>> ended_components("[1/3] CsvExampleGen  started\\n[1/3] CsvExampleGen  ran       11.8 s\\n")
        {'CsvExampleGen': 11.8}
    """
    found = (ENDED.match(line.strip()) for line in log.splitlines())
    return {m.group(1): float(m.group(3)) for m in found if m}


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


def _run(work: Path, data: Path, rows: int, mode: str, until: str | None, train_steps: int, timeout: float) -> dict:
    root = work / f"{rows}-{mode}-{until or 'full'}"
    config = _config(root, data, train_steps)
    summary = root / "summary.json"
    cmd = [sys.executable, "-m", "pipelines.run", "--config", str(config), "--summary", str(summary), "--no-fast-path"]
    for override in MODES[mode]:
        cmd += ["--set", override]
    if until:
        cmd += ["--until", until]
    load_before, tree = os.getloadavg()[0], _tree()
    log = root / "run.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            returncode = None
    wall = time.monotonic() - started
    text = log.read_text(errors="replace")
    data_out = json.loads(summary.read_text()) if summary.exists() else {}
    seconds = {c["name"]: c["seconds"] for c in data_out.get("components", [])} or ended_components(text)
    return {
        "rows": rows,
        "mode": mode,
        "until": until or "full",
        "exit": "timeout" if returncode is None else returncode,
        "status": data_out.get("status") or ("stopped" if returncode is None else None),
        "tree": tree,
        "log": str(log),
        "wall_s": round(wall, 1),
        "beam_s": round(sum(seconds.get(n, 0.0) for n in BEAM), 1),
        "components_s": seconds,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "error": None if returncode == 0 else text[-500:],
    }


def _table(results: list[dict]) -> str:
    lines = [
        f"# Beam DirectRunner modes ({os.cpu_count()} cores)",
        "",
        "| rows | run | mode | exit | wall s | ExampleGen | StatisticsGen | Transform | Evaluator | load | code |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("skipped"):
            lines.append(f"| {r['rows']} | {r['until']} | {r['mode']} | skipped (budget) | | | | | | | |")
            continue
        c = r["components_s"]
        stops = r["until"] != "full"  # Transform and Evaluator never run in a --until validate run
        cells = " | ".join("-" if stops and n in BEAM[2:] else str(c.get(n, "")) for n in BEAM)
        load = f"{r['load_before']} / {r['load_after']}"
        row = f"| {r['rows']} | {r['until']} | {r['mode']} | {r['exit']} | {r['wall_s']} | {cells} | {load}"
        lines.append(f"{row} | {r.get('tree', '')} |")
    return "\n".join(lines) + "\n"


def _merge(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` with the rows of ``new`` in place of those for the same size, run and mode."""
    key = lambda r: (r["rows"], r["until"], r["mode"])
    merged = {key(r): r for r in old} | {key(r): r for r in new}
    order = list(MODES)
    return sorted(merged.values(), key=lambda r: (r["until"] != "full", r["rows"], order.index(r["mode"])))


def _write(out: Path, results: list[dict], merge: bool) -> str:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "beam_modes.json"
    if merge and path.exists():
        results = _merge(json.loads(path.read_text()), results)
    path.write_text(json.dumps(results, indent=2) + "\n")
    table = _table(results)
    (out / "beam_modes.md").write_text(table)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", default="20000,200000", help="row counts for full runs (comma-separated)")
    parser.add_argument("--validate", default="2000000", help="row counts for --until validate runs")
    parser.add_argument("--modes", default=",".join(MODES), help="modes to run, in this order (comma-separated)")
    parser.add_argument("--train-steps", type=int, default=200)
    parser.add_argument("--budget", type=float, default=1500.0, help="start no run after this many seconds")
    parser.add_argument("--timeout", type=float, default=3000.0, help="stop a run after this many seconds")
    parser.add_argument("--stop-after", type=float, default=None, help="stop any run this many seconds from start")
    parser.add_argument("--work", default=None, help="folder for data, runs and logs (default: a temporary one)")
    parser.add_argument("--merge", action="store_true", help="keep the other rows of the results in --out")
    parser.add_argument("--out", default=str(RESULTS), help="folder for beam_modes.json and beam_modes.md")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"--modes {','.join(unknown)}: not one of {', '.join(MODES)}")
    plan = [(int(n), None) for n in args.full.split(",") if n] + [
        (int(n), "validate") for n in args.validate.split(",") if n
    ]
    started, results, out = time.monotonic(), [], Path(args.out)
    with tempfile.TemporaryDirectory(prefix="beam-modes-") as tmp:
        work = Path(args.work or tmp)
        for rows, until in plan:
            data = work / f"data-{rows}"
            if not data.exists() and time.monotonic() - started < args.budget:
                write_ad_click(str(data), rows, seed=7)
            for mode in modes:
                elapsed = time.monotonic() - started
                if elapsed > args.budget:
                    results.append({"rows": rows, "mode": mode, "until": until or "full", "skipped": True})
                    continue
                timeout = args.timeout if args.stop_after is None else min(args.timeout, args.stop_after - elapsed)
                result = _run(work, data, rows, mode, until, args.train_steps, max(timeout, 1.0))
                results.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "components_s"}), flush=True)
                _write(out, results, args.merge)
    print(_write(out, results, args.merge))
    return 0


if __name__ == "__main__":
    sys.exit(main())
