"""``rolling_spans: 2`` over month folders: a cold run over both months against the run after adding the second.

    python -m benchmarks.rolling_spans --rows 20000
    python -m benchmarks.rolling_spans --rows 20000,200000 --out benchmarks/results/rolling_spans.md

For each size (rows per month), in fresh pipeline roots, the same data and settings
(``configs/ad_click.yaml``, its 1,500 training steps) through ``python -m pipelines.run``:

- **cold**: both months there from the start, empty span store: both encoded and profiled;
- **added**: month 1 run first (set-up, not in the ratio), then month 2 added and run again:
  month 1's shards come from the span store (``components.span_store``), month 2 alone is
  encoded and profiled;
- **added, no store** (before): the same, with ``pipelines.build.pipeline._span_store``
  switched off in the run's process, so ExampleGen and StatisticsGen read both months again
  (the code path before the store).

The three timed runs go one after another after both set-ups, so they see similar load; the load
average is recorded beside every figure. The runs use a copy of the code taken at the start
(``<work>/src``): an edit in the tree between a set-up and its timed run would change the
span store's code version and re-encode the old month. Rows encoded and profiled are read from the run's log and
its statistics artifact. Writes a Markdown report (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPONENTS = ["CsvExampleGen", "StatisticsGen", "Transform", "Trainer", "Evaluator", "Pusher"]
NO_STORE = (
    "import sys; import pipelines.build.pipeline as p; p._span_store = lambda config: {}; "
    "from pipelines.run import main; sys.exit(main(sys.argv[1:]))"
)


def _snapshot(work: Path) -> Path:
    """A copy of the code and configs the runs use, taken once."""
    src = work / "src"
    if not src.exists():
        src.mkdir(parents=True)
        parts = ("pipelines", "components", "configs", "schemas", "requirements.lock")
        subprocess.run(["cp", "-r", *(str(REPO / p) for p in parts), str(src)], check=True)
    return src


def _config(root: Path, data: Path, src: Path) -> Path:
    cfg = yaml.safe_load((src / "configs" / "ad_click.yaml").read_text())
    cfg["pipeline"]["root"] = str(root / "pipeline")
    cfg["data"].update(source=str(data), pattern="{YYYY}-{MM}/*.csv", rolling_spans=2)
    cfg["schema"]["path"] = str(src / cfg["schema"]["path"])
    cfg["push"]["serving_dir"] = str(root / "serving")
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _month(data: Path, month: int, rows: int, source: Path) -> None:
    """Month ``month`` (0 = 2026-09) into ``data``: a hard link to the one generated copy."""
    name = f"2026-{9 + month:02d}"
    (data / name).mkdir(parents=True, exist_ok=True)
    target = data / name / "ad_click.csv"
    if not target.exists():
        os.link(source / name / "ad_click.csv", target)


def _run(config: Path, summary: Path, src: Path, store: bool = True) -> dict[str, Any]:
    head = [sys.executable, "-m", "pipelines.run"] if store else [sys.executable, "-c", NO_STORE]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(
        [*head, "--config", str(config), "--summary", str(summary)], cwd=src, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({config}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    data = json.loads(summary.read_text())
    log = Path(data["log_path"]).read_text()
    found = re.findall(r"span store: encoded (.*), reused (.*)", log)
    return {
        "wall": round(wall, 1),
        "load": f"{load:.1f}/{os.getloadavg()[0]:.1f}",
        "components": {c["name"]: c["seconds"] for c in data["components"]},
        "encoded": found[-1][0] if found else "all (no store)",
        "profiled": profiled_rows(data["artifacts"]["statistics"]),
        "auc": round(data["metrics"].get("auc", float("nan")), 4),
    }


def profiled_rows(statistics: str) -> int:
    """Examples profiled in a Statistics artifact (train + eval): what StatisticsGen read."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    total = 0
    for split in ("train", "eval"):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        stats.ParseFromString(Path(statistics, f"Split-{split}", "FeatureStats.pb").read_bytes())
        total += stats.datasets[0].num_examples
    return total


def measure(rows: int, work: Path) -> dict[str, Any]:
    from pipelines.data.generators import write_ad_click

    src = _snapshot(work)
    source = work / "generated"
    for month in (0, 1):
        write_ad_click(str(source / f"2026-{9 + month:02d}"), rows, seed=7 + month, month=month)
    roots = {name: work / name for name in ("cold", "added", "no_store")}
    configs = {name: _config(root, root / "data", src) for name, root in roots.items()}
    _month(roots["cold"] / "data", 0, rows, source)
    _month(roots["cold"] / "data", 1, rows, source)
    setup = {}
    for name, store in (("added", True), ("no_store", False)):
        _month(roots[name] / "data", 0, rows, source)
        setup[name] = _run(configs[name], roots[name] / "setup.json", src, store)
        _month(roots[name] / "data", 1, rows, source)
    results = {
        "cold": _run(configs["cold"], roots["cold"] / "run.json", src),
        "added": _run(configs["added"], roots["added"] / "run.json", src),
        "no_store": _run(configs["no_store"], roots["no_store"] / "run.json", src, store=False),
    }
    return {"rows": rows, "setup": setup, "runs": results}


def report(measured: list[dict[str, Any]], started: str) -> str:
    lines = [
        "# Rolling spans: a cold run over two months against the run after adding the second",
        "",
        f"Generated by `python -m benchmarks.rolling_spans`, started {started}, finished "
        f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}; {os.cpu_count()} cores, shared with other work "
        "(load average before/after each run beside it: a load above ~1 per core inflates every figure).",
        "",
        "Same data (`pipelines.datagen` ad_click, months 2026-09 and 2026-10), `configs/ad_click.yaml` "
        '(1,500 training steps) with `data.pattern: "{YYYY}-{MM}/*.csv"` and `data.rolling_spans: 2`. '
        "*added*: month 1 run first, then month 2 added and run (timed); *added, no store*: the same "
        "with the span store switched off (the code path before it). Seconds per component from the "
        "run summary; wall from process start to exit.",
        "",
        "| rows/month | run | wall s | load | " + " | ".join(COMPONENTS) + " | encoded | profiled rows | AUC |",
        "| ---: | --- | ---: | --- | " + " | ".join("---:" for _ in COMPONENTS) + " | --- | ---: | ---: |",
    ]
    names = {"cold": "cold, both months", "added": "added month 2", "no_store": "added month 2, no store"}
    for m in measured:
        for key, r in m["runs"].items():
            secs = " | ".join(f"{r['components'].get(c, 0):.1f}" for c in COMPONENTS)
            lines.append(
                f"| {m['rows']:,} | {names[key]} | {r['wall']} | {r['load']} | {secs} | {r['encoded']} | "
                f"{r['profiled']:,} | {r['auc']} |"
            )
    lines += ["", "| rows/month | added / cold | added, no store / cold | added / added, no store | goal <= 0.6x |"]
    lines += ["| ---: | ---: | ---: | ---: | --- |"]
    for m in measured:
        runs = m["runs"]
        ratio = runs["added"]["wall"] / runs["cold"]["wall"]
        lines.append(
            f"| {m['rows']:,} | {ratio:.2f}x | {runs['no_store']['wall'] / runs['cold']['wall']:.2f}x | "
            f"{runs['added']['wall'] / runs['no_store']['wall']:.2f}x | {'met' if ratio <= 0.6 else 'missed'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000", help="rows per month, comma-separated sizes")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "rolling_spans.md"))
    parser.add_argument("--work", help="working folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    work = Path(args.work or tempfile.mkdtemp(prefix="rolling-spans-"))
    measured = []
    for rows in [int(r) for r in args.rows.split(",")]:
        measured.append(measure(rows, work / str(rows)))
        Path(args.out).write_text(report(measured, started))
        (work / "results.json").write_text(json.dumps(measured, indent=1))
        print(report(measured, started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
