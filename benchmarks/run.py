"""Benchmark this project against a hand-written vanilla TFX pipeline and a plain Keras script.

    .venv/bin/python -m benchmarks.run --rows 20000,200000,2000000

On the same generated data and the same model and training steps, measures per
component wall time and peak RSS (process tree, sampled every 0.2 s) of:

- this project: cold run, fully cached rerun, rerun after one trainer setting changed;
- vanilla TFX (``benchmarks/vanilla_tfx/``): the same three runs;
- plain Keras (``benchmarks/plain_keras.py``): the floor, no TFX, no validation;
- rejecting a bad config (``--set trainer.train_steps=abc``, exit 2);
- import overhead probes (bare interpreter, TensorFlow, TFX).

Writes ``results.md``, ``results.csv``, ``components.csv``, ``scale.csv``,
``scale.png`` and the raw ``results.json`` to ``--out`` (``benchmarks/results``).
A failed or timed-out run is recorded as such; the harness carries on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from benchmarks import systems
from benchmarks.monitor import BETWEEN, STARTUP, TEARDOWN, RunResult, run_monitored
from benchmarks.systems import REPO, Workspace

DEFAULT_ROWS = "20000,200000,2000000"
MB = 1024 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", default=DEFAULT_ROWS, help=f"comma-separated data sizes (default {DEFAULT_ROWS})")
    p.add_argument(
        "--train-steps",
        type=int,
        default=None,
        help="training steps for all three systems (default: the config's trainer.train_steps)",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="per-run timeout in seconds (default 3600)")
    p.add_argument("--systems", default="project,vanilla,keras", help="which systems to run (default all three)")
    p.add_argument(
        "--reruns",
        choices=["first", "all", "none"],
        default="first",
        help="where to measure the cached and retrain reruns: the first --rows size (default), all, none",
    )
    p.add_argument("--config", default="configs/ad_click.yaml", help="project config (default configs/ad_click.yaml)")
    p.add_argument("--seed", type=int, default=7, help="datagen seed (default 7)")
    p.add_argument("--out", default="benchmarks/results", help="results directory (default benchmarks/results)")
    p.add_argument("--work", default=None, help="data, pipeline roots and logs (default <out>/tmp, git-ignored)")
    p.add_argument("--no-probes", action="store_true", help="skip the import-overhead probes")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from <out>/results.json")
    args = p.parse_args(argv)
    try:
        args.rows_list = [int(float(r)) for r in args.rows.split(",") if r.strip()]
    except ValueError:
        p.error(f"--rows {args.rows!r}: expected comma-separated integers, e.g. 20000,200000")
    if not args.rows_list or min(args.rows_list) < 100:
        p.error("--rows: every size must be at least 100")
    args.systems_list = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(args.systems_list) - {"project", "vanilla", "keras"}
    if unknown:
        p.error(f"--systems: unknown {sorted(unknown)}; choose from project, vanilla, keras")
    args.work = args.work or os.path.join(args.out, "tmp")
    return args


def config_settings(config: str) -> tuple[int, int, str]:
    """(train_steps, eval_steps, served model name) from the project config, read the way the project reads it."""
    from pipelines.config import load_config  # light: pydantic + yaml, no TensorFlow

    cfg = load_config(config, [])
    return cfg.trainer.train_steps, cfg.trainer.eval_steps, cfg.model_name


def machine_info() -> dict[str, Any]:
    import platform

    import psutil

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    from importlib import metadata

    for pkg in (
        "tfx",
        "tensorflow",
        "tf-keras",
        "apache-beam",
        "tensorflow-transform",
        "tensorflow-model-analysis",
        "tensorflow-data-validation",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "pipelines", "components", "configs"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", False
    return {
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": commit + (" (pipelines/components/configs modified)" if dirty else ""),
        "started": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = os.path.abspath(args.out)
        self.work = os.path.abspath(args.work)
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.out, exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        self.runs: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}
        self.seq = 0

    # ------------------------------------------------------------------ plumbing

    def say(self, text: str) -> None:
        print(text, flush=True)

    def env(self, tmpdir: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"TF_USE_LEGACY_KERAS": "1", "PYTHONUNBUFFERED": "1", "TMPDIR": tmpdir})
        env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env

    def measure(
        self,
        label: dict[str, Any],
        cmd: list[str],
        parser: Callable | None,
        *,
        timeout: float | None,
        expect_exit: int = 0,
    ) -> tuple[dict[str, Any], RunResult | None]:
        """Run one monitored command and record it; a harness error becomes an ``error`` record."""
        self.seq += 1
        slug = "-".join(str(label[k]) for k in ("rows", "system", "scenario")).replace(", ", "_").replace(" ", "_")
        log_path = os.path.join(self.logs, f"{self.seq:02d}-{slug}.log")
        tmpdir = os.path.join(self.work, "tmp-run")
        shutil.rmtree(tmpdir, ignore_errors=True)  # Beam and pip leave temp dirs behind; keep them here
        os.makedirs(tmpdir)
        rec: dict[str, Any] = {
            **label,
            "cmd": " ".join(cmd),
            "log": os.path.relpath(log_path, REPO),
            "loadavg_start": round(os.getloadavg()[0], 2),
        }
        self.say(
            f"\n== {label['system']} / {label['scenario']} / {label['rows']} rows"
            f"{'' if timeout is None else f' (timeout {timeout:.0f} s)'}"
        )
        result = None
        try:
            result = run_monitored(
                cmd,
                parse_line=parser,
                cwd=REPO,
                env=self.env(tmpdir),
                timeout=timeout,
                log_path=log_path,
                echo=self.say,
            )
            rec.update(self._result_fields(result, expect_exit))
        except Exception as exc:  # noqa: BLE001 - a harness bug in one run must not lose the others
            rec.update(status="error", error=f"harness: {type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        rec["loadavg_end"] = round(os.getloadavg()[0], 2)
        self.say(
            f"   -> {rec['status']}, {rec.get('wall_s', 0):.1f} s, peak RSS "
            f"{rec.get('peak_rss_mb', 0):.0f} MB" + (f"  [{rec['error']}]" if rec.get("error") else "")
        )
        self.runs.append(rec)
        self.save()
        return rec, result

    @staticmethod
    def _result_fields(r: RunResult, expect_exit: int) -> dict[str, Any]:
        status = r.status
        if status in ("ok", "failed") and r.exit_code is not None:
            status = "ok" if r.exit_code == expect_exit else "failed"
        fields: dict[str, Any] = {
            "status": status,
            "exit_code": r.exit_code,
            "wall_s": round(r.wall, 2),
            "peak_rss_mb": round(r.peak_rss / MB, 1),
            "max_proc_rss_mb": round(r.max_proc_rss / MB, 1),
            "cpu_s": round(r.cpu_seconds, 1),
            "components": [
                {
                    "name": p.name,
                    "status": p.status,
                    "seconds": round(p.seconds, 2),
                    "peak_rss_mb": round(p.peak_rss / MB, 1),
                    "samples": p.samples,
                }
                for p in r.components
            ],
        }
        for key, name in (("startup_s", STARTUP), ("between_s", BETWEEN), ("teardown_s", TEARDOWN)):
            phase = r.phase(name)
            fields[key] = round(phase.seconds, 2) if phase else 0.0
            if phase:
                fields[key.replace("_s", "_peak_rss_mb")] = round(phase.peak_rss / MB, 1)
        marks = r.marks
        validated = [t for n, t in marks if n == "config_validated"]
        if validated:
            fields["config_validated_s"] = round(validated[0], 2)
        if any(n == "fast_path" for n, _ in marks):
            fields["fast_path"] = True
        checked = [t for n, t in marks if n == "preflight_done"]
        if checked:
            fields["preflight_done_s"] = round(checked[0], 2)
        starts = [t for n, t in marks if n == "wheel_start"]
        ends = [t for n, t in marks if n == "wheel_end"]
        if starts and ends:
            fields["wheel_build_s"] = round(sum(e - s for s, e in zip(starts, ends, strict=False)), 2)
        if status != "ok":
            fields["error"] = _reason(r, status)
        return fields

    def save(self) -> None:
        tmp = os.path.join(self.out, "results.json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"meta": self.meta, "runs": self.runs}, fh, indent=1)
        os.replace(tmp, os.path.join(self.out, "results.json"))

    # ------------------------------------------------------------------ scenarios

    def workspace(self, rows: int, system: str) -> Workspace:
        base = os.path.join(self.work, f"rows-{rows}", system)
        return Workspace(
            root=os.path.join(base, "root"),
            serving=os.path.join(base, "serving"),
            summary=os.path.join(base, "summary.json"),
        )

    def data(self, rows: int) -> str | None:
        """Generate (or reuse) the CSV for ``rows``; recorded as a ``datagen`` run."""
        out = os.path.join(self.work, "data", f"rows-{rows}")
        stamp = out + ".json"  # outside the data directory: CsvExampleGen reads every file in it
        want = {"rows": rows, "seed": self.args.seed}
        try:
            with open(stamp, encoding="utf-8") as fh:
                if json.load(fh) == want:
                    self.say(f"\n== data: reusing {rows} rows in {os.path.relpath(out, REPO)}")
                    return out
        except (OSError, ValueError):
            pass
        shutil.rmtree(out, ignore_errors=True)
        rec, _ = self.measure(
            {"rows": rows, "system": "datagen", "scenario": "generate"},
            systems.datagen_cmd(rows, out, self.args.seed),
            None,
            timeout=None,
        )
        if rec["status"] != "ok":
            return None
        with open(stamp, "w", encoding="utf-8") as fh:
            json.dump(want, fh)
        return out

    def probes(self) -> None:
        for name, statement in systems.IMPORT_PROBES.items():
            self.measure(
                {"rows": 0, "system": "probe", "scenario": name}, systems.import_probe_cmd(statement), None, timeout=600
            )

    def bad_config(self, data: str, repeats: int = 3) -> None:
        ws = self.workspace(0, "bad-config")
        for _ in range(repeats):
            self.measure(
                {"rows": 0, "system": "project", "scenario": "bad config"},
                systems.project_cmd(self.args.config, data, ws, "abc"),
                systems.parse_project,
                timeout=120,
                expect_exit=2,
            )

    def project(self, rows: int, data: str, reruns: bool) -> None:
        ws = self.workspace(rows, "project")
        shutil.rmtree(os.path.dirname(ws.root), ignore_errors=True)
        steps = self.train_steps
        runs = [("cold", [], []), ("cached", [], [])]
        if systems.project_supports("--no-fast-path"):
            # The fast path answers an unchanged rerun without starting TFX; measure TFX's own caching too.
            runs.append(("cached, no fast path", [], ["--no-fast-path"]))
        runs.append(("retrain", ["trainer.learning_rate=0.002"], []))
        served = os.path.join(ws.serving, self.model_name)
        for scenario, extra, flags in runs if reruns else runs[:1]:
            versions = _versions(served)
            rec, _ = self.measure(
                {"rows": rows, "system": "project", "scenario": scenario},
                systems.project_cmd(self.args.config, data, ws, steps, extra, flags),
                systems.parse_project,
                timeout=self.args.timeout,
            )
            rec["new_versions"] = len(_versions(served) - versions)
            rec["pushed"] = rec["new_versions"] > 0
            _read_project_summary(rec, ws.summary)
            self.save()
            if scenario == "cold" and rec["status"] != "ok":
                break  # reruns of a failed cold run measure nothing useful

    def vanilla(self, rows: int, data: str, reruns: bool) -> None:
        ws = self.workspace(rows, "vanilla")
        shutil.rmtree(os.path.dirname(ws.root), ignore_errors=True)
        runs = [("cold", None), ("cached", None), ("retrain", 0.002)]
        for scenario, lr in runs if reruns else runs[:1]:
            versions = _versions(os.path.join(ws.serving, "ad_click"))
            rec, _ = self.measure(
                {"rows": rows, "system": "vanilla", "scenario": scenario},
                systems.vanilla_cmd(data, ws, self.train_steps, self.eval_steps, lr),
                systems.VanillaParser(),
                timeout=self.args.timeout,
            )
            rec["new_versions"] = len(_versions(os.path.join(ws.serving, "ad_click")) - versions)
            rec["pushed"] = rec["new_versions"] > 0
            rec["eval_dir"] = _latest_eval_dir(ws.root) if rec["status"] == "ok" else None
            self.save()
            if scenario == "cold" and rec["status"] != "ok":
                break

    def keras(self, rows: int, data: str) -> None:
        ws = self.workspace(rows, "keras")
        shutil.rmtree(os.path.dirname(ws.root), ignore_errors=True)
        rec, result = self.measure(
            {"rows": rows, "system": "keras", "scenario": "cold"},
            systems.keras_cmd(data, ws, self.train_steps, self.eval_steps),
            systems.parse_keras,
            timeout=self.args.timeout,
        )
        for line in result.stdout_tail if result else []:
            if line.startswith("eval auc "):
                rec["auc"] = float(line.split()[2])
        self.save()

    # ------------------------------------------------------------------ the whole benchmark

    def run(self) -> None:
        a = self.args
        self.train_steps, self.eval_steps, self.model_name = config_settings(a.config)
        if a.train_steps is not None:
            self.train_steps = a.train_steps
        self.meta = {
            "machine": machine_info(),
            "command": " ".join([os.path.basename(sys.executable), "-m", "benchmarks.run", *sys.argv[1:]]),
            "rows": a.rows_list,
            "train_steps": self.train_steps,
            "eval_steps": self.eval_steps,
            "timeout_s": a.timeout,
            "seed": a.seed,
            "config": a.config,
            "systems": a.systems_list,
        }
        load = self.meta["machine"]["loadavg_start"][0]
        cores = self.meta["machine"]["logical_cores"] or 1
        self.say(f"machine: {cores} cores, {self.meta['machine']['memory_gb']} GB; load average {load}")
        if load > 0.5 * cores:
            self.say(f"warning: load average {load} on {cores} cores; timings will be inflated by other work")
        self.say(
            f"rows {a.rows_list}, train_steps {self.train_steps}, eval_steps {self.eval_steps}, "
            f"timeout {a.timeout:.0f} s; logs in {os.path.relpath(self.logs, REPO)}"
        )
        self.save()
        if not a.no_probes:
            self.probes()
        vanilla_gave_up: str | None = None
        for i, rows in enumerate(a.rows_list):
            data = self.data(rows)
            if data is None:
                continue
            if i == 0 and "project" in a.systems_list:
                self.bad_config(data)
            reruns = a.reruns == "all" or (a.reruns == "first" and i == 0)
            if "project" in a.systems_list:
                self.project(rows, data, reruns)
            if "vanilla" in a.systems_list:
                if vanilla_gave_up:
                    self.runs.append(
                        {
                            "rows": rows,
                            "system": "vanilla",
                            "scenario": "cold",
                            "status": "skipped",
                            "error": vanilla_gave_up,
                        }
                    )
                    self.say(f"\n== vanilla / cold / {rows} rows: skipped ({vanilla_gave_up})")
                else:
                    self.vanilla(rows, data, reruns)
                    cold = next(
                        r
                        for r in reversed(self.runs)
                        if r["system"] == "vanilla" and r["rows"] == rows and r["scenario"] == "cold"
                    )
                    if cold["status"] == "timeout":
                        vanilla_gave_up = f"vanilla TFX timed out at {rows} rows"
            if "keras" in a.systems_list:
                self.keras(rows, data)
        self.meta["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        self.meta["finished"] = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        self.vanilla_metrics()
        self.save()

    def vanilla_metrics(self) -> None:
        """Overall AUC and blessing of the vanilla runs, read in one subprocess (TFMA is heavy)."""
        dirs = {r["eval_dir"] for r in self.runs if r.get("eval_dir")}
        if not dirs:
            return
        try:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.tfma_metrics", *sorted(dirs)],
                cwd=REPO,
                env=self.env(self.work),
                capture_output=True,
                text=True,
                timeout=600,
            )
            found = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {}
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            found = {}
        for r in self.runs:
            info = found.get(r.get("eval_dir") or "")
            if info:
                r["auc"], r["blessed"] = info.get("auc"), info.get("blessed")


_NOISE = ("Unable to register", "FutureWarning", "warnings.warn", "DeprecationWarning", "UserWarning")


def _reason(r: RunResult, status: str) -> str:
    """One line on why a run did not succeed: where it stopped and the most telling output line."""
    open_phase = next((p.name for p in r.components if p.status in ("failed", "timeout")), None)
    where = f" in {open_phase}" if open_phase else (" before the first component" if not r.components else "")
    if r.error:
        return r.error
    if status == "timeout":
        return f"timed out after {r.wall:.0f} s{where}"
    lines = [ln.strip() for ln in r.stderr_tail + r.stdout_tail if ln.strip() and not any(n in ln for n in _NOISE)]
    telling = [ln for ln in lines if "error" in ln.lower()] or lines
    return f"exit {r.exit_code}{where}" + (f": {telling[-1][:300]}" if telling else "")


def _versions(path: str) -> set[str]:
    try:
        return {d for d in os.listdir(path) if d.isdigit()}
    except OSError:
        return set()


def _latest_eval_dir(root: str) -> str | None:
    base = os.path.join(root, "Evaluator", "evaluation")
    try:
        ids = sorted((d for d in os.listdir(base) if d.isdigit()), key=int)
    except OSError:
        return None
    return os.path.join(base, ids[-1]) if ids else None


def _read_project_summary(rec: dict[str, Any], path: str) -> None:
    try:
        with open(path, encoding="utf-8") as fh:
            summary = json.load(fh)
    except (OSError, ValueError):
        return
    rec["auc"] = summary.get("metrics", {}).get("auc")
    rec["blessed"] = summary.get("blessed")
    rec["summary_status"] = summary.get("status")
    rec["engine"] = summary.get("engine", "tfx")
    rec["project_summary_s"] = {c["name"]: c["seconds"] for c in summary.get("components", [])}
    os.replace(path, path + "." + rec["scenario"].replace(" ", "_").replace(",", ""))  # no stale summary next time


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill <harness pid>` stops the run in progress (its process group) and still writes the report.
    signal.signal(signal.SIGTERM, _interrupt)
    from benchmarks import report

    harness = Harness(args)
    if args.report_only:
        with open(os.path.join(harness.out, "results.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        harness.meta, harness.runs = data["meta"], data["runs"]
    else:
        try:
            harness.run()
        except KeyboardInterrupt:
            harness.say("\ninterrupted: writing the report for the runs finished so far")
            harness.meta["interrupted"] = True
            harness.save()
    paths = report.write_all(harness.meta, harness.runs, harness.out)
    harness.say("\n" + "\n".join(f"wrote {os.path.relpath(p, REPO)}" for p in paths))
    return 130 if harness.meta.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
