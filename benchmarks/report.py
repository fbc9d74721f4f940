"""Turn the harness's run records into ``results.md``, CSVs and ``scale.png``.

Pure functions of ``(meta, runs)`` as stored in ``results.json``, so a report can be
rebuilt without rerunning anything (``python -m benchmarks.run --report-only``).
"""

from __future__ import annotations

import csv
import math
import os
import statistics
from collections.abc import Iterable
from typing import Any

Run = dict[str, Any]

GOAL_COLD_RATIO = 0.5
GOAL_CACHED_S = 10.0
GOAL_BAD_CONFIG_S = 2.0
GOAL_PEAK_RSS_GB = 6.0
GOAL_BIG_ROWS = 2_000_000
# "About linear": time = fixed + per_row * rows. The marginal cost per row between the two largest
# sizes may be at most GOAL_MARGINAL times the one between the two sizes below (needs three sizes);
# with two sizes, the log-log slope must be at most GOAL_SLOPE (fixed costs keep it below 1).
GOAL_MARGINAL = 1.25
GOAL_SLOPE = 1.15

SYSTEMS = ("project", "vanilla", "keras")
SYSTEM_LABEL = {"project": "this project", "vanilla": "vanilla TFX", "keras": "plain Keras"}
# Equivalent components share a row in the side-by-side tables.
CANONICAL = {
    "ImportSchemaGen": "SchemaGen",
    "latest_blessed_model_resolver": "(resolver)",
    "baseline_resolver": "(resolver)",
}
ORDER = [
    "(startup)",
    "CsvExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "(resolver)",
    "Evaluator",
    "Pusher",
    "(between)",
    "(teardown)",
]
NO_FAST_PATH = "cached, no fast path"
RERUNS = ("cached", NO_FAST_PATH, "retrain")
MIN_RATIO_S = 1.0  # per-component ratios where both phases are sub-second are noise


def merged_order(*runs: Run | None) -> list[str]:
    """Canonical phase names of several runs in run order: the first run's order, then each
    name only another run has inserted after the name it follows there."""
    order: list[str] = []
    for r in runs:
        if not r:
            continue
        prev = None
        for name in phases(r):
            if name in order:
                prev = name
                continue
            at = order.index(prev) + 1 if prev in order else (0 if prev is None else len(order))
            order.insert(at, name)
            prev = name
    synthetic = [n for n in ("(startup)",) if n in order]
    tail = [n for n in ("(between)", "(teardown)") if n in order]
    return synthetic + [n for n in order if n not in synthetic + tail] + tail


# ---------------------------------------------------------------------------- selection helpers


def find(runs: list[Run], rows: int | None = None, system: str | None = None, scenario: str | None = None) -> list[Run]:
    return [
        r
        for r in runs
        if (rows is None or r.get("rows") == rows)
        and (system is None or r.get("system") == system)
        and (scenario is None or r.get("scenario") == scenario)
    ]


def one(runs: list[Run], rows: int, system: str, scenario: str) -> Run | None:
    found = find(runs, rows, system, scenario)
    return found[-1] if found else None


def ok(r: Run | None) -> bool:
    return bool(r) and r.get("status") == "ok"


def sizes(runs: list[Run]) -> list[int]:
    return sorted({r["rows"] for r in runs if r.get("rows") and r.get("system") in SYSTEMS})


def phases(r: Run) -> dict[str, dict[str, Any]]:
    """Component and synthetic phases of a run by canonical name."""
    out: dict[str, dict[str, Any]] = {}
    for c in r.get("components", []):
        out[CANONICAL.get(c["name"], c["name"])] = {**c, "shown": c["name"]}
    for key in ("startup", "between", "teardown"):
        if f"{key}_s" in r:
            out[f"({key})"] = {
                "name": f"({key})",
                "shown": f"({key})",
                "status": "",
                "seconds": r[f"{key}_s"],
                "peak_rss_mb": r.get(f"{key}_peak_rss_mb"),
            }
    return out


def fmt_s(x: Any) -> str:
    return "" if x is None else f"{x:.1f}"


def fmt_mb(x: Any) -> str:
    return "" if x is None else f"{x:,.0f}"


def ratio(a: Run | None, b: Run | None, key: str = "wall_s") -> float | None:
    if ok(a) and ok(b) and b.get(key):
        return a[key] / b[key]
    return None


def fmt_ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def slope(p: tuple[int, float], q: tuple[int, float]) -> float | None:
    (r1, t1), (r2, t2) = p, q
    if r1 <= 0 or r2 <= r1 or t1 <= 0 or t2 <= 0:
        return None
    return math.log(t2 / t1) / math.log(r2 / r1)


def status_text(r: Run | None) -> str:
    if r is None:
        return "not run"
    return r.get("status", "?")


# ---------------------------------------------------------------------------- goals


def goals(meta: dict[str, Any], runs: list[Run]) -> list[tuple[str, str, str, str]]:
    """(goal, target, measured, verdict) rows."""
    rows_all = sizes(runs)
    out = []

    at = 20_000 if 20_000 in rows_all else (rows_all[0] if rows_all else None)
    p, v = (one(runs, at, "project", "cold"), one(runs, at, "vanilla", "cold")) if at else (None, None)
    r = ratio(p, v)
    where = f" at {at:,} rows" + ("" if at == 20_000 else " (20,000 not measured)") if at else ""
    measured = (
        f"{p['wall_s']:.1f} s vs {v['wall_s']:.1f} s = {r:.2f}x{where}"
        if r is not None
        else f"project {status_text(p)}, vanilla {status_text(v)}{where}"
    )
    out.append(
        (
            "cold run vs vanilla TFX, same data and steps",
            f"<= {GOAL_COLD_RATIO}x vanilla wall",
            measured,
            _verdict(r is not None and r <= GOAL_COLD_RATIO, r is None),
        )
    )

    cached = list(find(runs, system="project", scenario="cached"))
    c = cached[0] if cached else None
    slow = next(iter(find(runs, c["rows"], "project", NO_FAST_PATH)), None) if c else None
    measured = f"{c['wall_s']:.1f} s at {c['rows']:,} rows" if ok(c) else status_text(c)
    if ok(c) and c.get("fast_path"):
        measured += " (fast path: TFX not started)"
    if ok(slow):
        measured += f"; through TFX's own caching (`--no-fast-path`) {slow['wall_s']:.1f} s"
    out.append(
        (
            "fully cached rerun",
            f"< {GOAL_CACHED_S:.0f} s",
            measured,
            _verdict(ok(c) and c["wall_s"] < GOAL_CACHED_S, not ok(c)),
        )
    )

    bad = find(runs, system="project", scenario="bad config")
    walls = [b["wall_s"] for b in bad if ok(b)]
    med = statistics.median(walls) if walls else None
    all_ok = bool(bad) and len(walls) == len(bad)
    out.append(
        (
            "bad config rejected (exit 2)",
            f"< {GOAL_BAD_CONFIG_S:.0f} s",
            (
                f"{med:.2f} s (median of {len(walls)}{'' if all_ok else f'; {len(bad) - len(walls)} not exit 2'})"
                if med is not None
                else "not measured"
                if not bad
                else "never exited 2"
            ),
            _verdict(all_ok and med is not None and med < GOAL_BAD_CONFIG_S, med is None),
        )
    )

    big = GOAL_BIG_ROWS if GOAL_BIG_ROWS in rows_all else (rows_all[-1] if rows_all else None)
    b = one(runs, big, "project", "cold") if big else None
    note = "" if big == GOAL_BIG_ROWS else f" ({GOAL_BIG_ROWS:,} not measured)"
    peak_gb = b["peak_rss_mb"] / 1024 if ok(b) else None
    out.append(
        (
            f"{GOAL_BIG_ROWS:,} rows finish, peak RSS",
            f"< {GOAL_PEAK_RSS_GB:.0f} GB",
            (f"{peak_gb:.2f} GB at {big:,} rows{note}" if peak_gb is not None else f"{status_text(b)}{note}"),
            _verdict(
                peak_gb is not None and peak_gb < GOAL_PEAK_RSS_GB and big == GOAL_BIG_ROWS,
                peak_gb is None or big != GOAL_BIG_ROWS,
            ),
        )
    )

    pts = [(n, r["wall_s"]) for n in rows_all for r in [one(runs, n, "project", "cold")] if ok(r)]
    s = slope(pts[-2], pts[-1]) if len(pts) >= 2 else None
    m = marginal_ratio(pts[-3:]) if len(pts) >= 3 else None
    target = (
        f"marginal time per row between the two largest sizes <= {GOAL_MARGINAL}x the one between the "
        f"two sizes below (with two sizes: log-log slope <= {GOAL_SLOPE})"
    )
    if m is not None:
        (a, _), (b, _), (c, _) = pts[-3:]
        measured = f"{m:.2f}x ({b:,} -> {c:,} rows vs {a:,} -> {b:,}); log-log slope {s:.2f}"
        verdict = _verdict(m <= GOAL_MARGINAL, False)
    elif s is not None:
        measured = f"log-log slope {s:.2f} ({pts[-2][0]:,} -> {pts[-1][0]:,} rows)"
        verdict = _verdict(s <= GOAL_SLOPE, False)
    else:
        measured, verdict = "needs two sizes", _verdict(False, True)
    out.append(("time about linear in rows", target, measured, verdict))
    return out


def marginal(p: tuple[int, float], q: tuple[int, float]) -> float | None:
    """Seconds per 1,000 extra rows between two (rows, seconds) points."""
    (r1, t1), (r2, t2) = p, q
    return (t2 - t1) / (r2 - r1) * 1000 if r2 > r1 else None


def marginal_ratio(pts: list[tuple[int, float]]) -> float | None:
    """Marginal cost per row of the last step over that of the step before; 1.0 = linear."""
    lo, hi = marginal(pts[0], pts[1]), marginal(pts[1], pts[2])
    return hi / lo if lo and hi is not None and lo > 0 else None


def _verdict(passed: bool, unknown: bool) -> str:
    return "not measured" if unknown else ("met" if passed else "**missed**")


# ---------------------------------------------------------------------------- CSV

RUN_FIELDS = [
    "rows",
    "system",
    "scenario",
    "status",
    "exit_code",
    "wall_s",
    "startup_s",
    "config_validated_s",
    "preflight_done_s",
    "wheel_build_s",
    "between_s",
    "teardown_s",
    "peak_rss_mb",
    "max_proc_rss_mb",
    "cpu_s",
    "auc",
    "blessed",
    "pushed",
    "new_versions",
    "components_ran",
    "components_cached",
    "loadavg_start",
    "loadavg_end",
    "log",
    "error",
    "cmd",
]


def write_csv(path: str, fields: list[str], rows: Iterable[dict[str, Any]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
    return path


def run_rows(runs: list[Run]) -> Iterable[dict[str, Any]]:
    for r in runs:
        comps = r.get("components", [])
        yield {
            **r,
            "components_ran": sum(c["status"] == "ran" for c in comps),
            "components_cached": sum(c["status"] == "cached" for c in comps),
        }


def component_rows(runs: list[Run]) -> Iterable[dict[str, Any]]:
    for r in runs:
        if r.get("system") not in SYSTEMS:
            continue
        for c in phases(r).values():
            yield {
                "rows": r["rows"],
                "system": r["system"],
                "scenario": r["scenario"],
                "run_status": r["status"],
                "component": c["shown"],
                "status": c["status"],
                "seconds": c["seconds"],
                "peak_rss_mb": c.get("peak_rss_mb"),
                "samples": c.get("samples", ""),
            }


def scale_rows(runs: list[Run]) -> Iterable[dict[str, Any]]:
    for system in SYSTEMS:
        prev = None
        for n in sizes(runs):
            r = one(runs, n, system, "cold")
            if r is None:
                continue
            s = slope(prev, (n, r["wall_s"])) if prev and ok(r) else None
            mc = marginal(prev, (n, r["wall_s"])) if prev and ok(r) else None
            yield {
                "rows": n,
                "system": system,
                "status": r["status"],
                "wall_s": r.get("wall_s"),
                "s_per_1k_rows": round(r["wall_s"] / n * 1000, 4) if ok(r) else None,
                "marginal_s_per_1k_rows": round(mc, 4) if mc is not None else None,
                "loglog_slope_from_previous": round(s, 3) if s is not None else None,
                "peak_rss_mb": r.get("peak_rss_mb"),
                "max_proc_rss_mb": r.get("max_proc_rss_mb"),
                "cpu_s": r.get("cpu_s"),
                **{f"{k}_s": v.get("seconds") for k, v in phases(r).items()},
            }
            if ok(r):
                prev = (n, r["wall_s"])


# ---------------------------------------------------------------------------- markdown


def table(header: list[str], rows: list[list[Any]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def markdown(meta: dict[str, Any], runs: list[Run]) -> str:
    m = meta.get("machine", {})
    md: list[str] = ["# Benchmark results", ""]
    md.append(
        f"Generated by `{meta.get('command', 'python -m benchmarks.run')}`, started {m.get('started', '?')}"
        f", finished {meta.get('finished', '?')}" + (" (**interrupted**)" if meta.get("interrupted") else "") + "."
    )
    md.append("")
    md.append(
        f"**Machine:** {m.get('logical_cores')} logical cores ({m.get('physical_cores')} physical), "
        f"{m.get('memory_gb')} GB RAM, {m.get('cpu_model') or 'unknown CPU'}; load average "
        f"{_load(m.get('loadavg_start'))} at start, {_load(m.get('loadavg_end'))} at end "
        "(shared machine: a load above ~0.5 per core inflates every figure).  "
    )
    v = m.get("versions", {})
    md.append(
        f"**Software:** Python {m.get('python')}, "
        + ", ".join(f"{k} {val}" for k, val in v.items() if val)
        + f"; project commit {m.get('git_commit') or '?'}.  "
    )
    md.append(
        f"**Settings:** rows {', '.join(f'{n:,}' for n in meta.get('rows', []))}; "
        f"{meta.get('train_steps')} train steps and {meta.get('eval_steps')} eval steps for every system; "
        f"datagen seed {meta.get('seed')}; per-run timeout {meta.get('timeout_s', 0):.0f} s; "
        f"config `{meta.get('config')}`."
    )
    md.append("")
    md.append(
        "Wall = process start to exit, measured by the harness. Peak RSS = the largest sampled sum of RSS over "
        "the process tree (every 0.2 s); *max proc* = the kernel's ru_maxrss of the largest single process. "
        "`(startup)` is process start to the first component (interpreter, imports, pipeline build; for vanilla "
        "TFX also the two user-module wheel builds), `(between)` the gaps between components, `(teardown)` "
        "last component to exit (this project reads back ML Metadata and TFMA results for its summary)."
    )
    md.append("")

    md += ["## Goals", ""]
    md += table(["goal", "target", "measured", "verdict"], [list(g) for g in goals(meta, runs)], "llll")
    md.append("")

    md += ["## Ratios", "", "Lower is better for this project; ratios matter more than absolute seconds.", ""]
    hdr = [
        "rows",
        "cold / vanilla cold",
        "cold / plain Keras",
        "cached / vanilla cached",
        "cached without fast path / vanilla cached",
        "retrain / vanilla retrain",
        "peak RSS / vanilla",
        "peak RSS / plain Keras",
    ]
    rows = []
    for n in sizes(runs):
        pc, vc, kc = (one(runs, n, s, "cold") for s in SYSTEMS)
        vcached = one(runs, n, "vanilla", "cached")
        rows.append(
            [
                f"{n:,}",
                fmt_ratio(ratio(pc, vc)),
                fmt_ratio(ratio(pc, kc)),
                fmt_ratio(ratio(one(runs, n, "project", "cached"), vcached)),
                fmt_ratio(ratio(one(runs, n, "project", NO_FAST_PATH), vcached)),
                fmt_ratio(ratio(one(runs, n, "project", "retrain"), one(runs, n, "vanilla", "retrain"))),
                fmt_ratio(ratio(pc, vc, "peak_rss_mb")),
                fmt_ratio(ratio(pc, kc, "peak_rss_mb")),
            ]
        )
    md += table(hdr, rows)
    md.append("")

    md += ["## All runs", ""]
    hdr = [
        "rows",
        "system",
        "scenario",
        "status",
        "wall s",
        "startup s",
        "teardown s",
        "peak RSS MB",
        "max proc MB",
        "CPU s",
        "ran / cached",
        "AUC",
        "pushed",
    ]
    rows = []
    for r in runs:
        if r.get("system") not in SYSTEMS:
            continue
        comps = r.get("components", [])
        ran = sum(c["status"] == "ran" for c in comps)
        cached = sum(c["status"] == "cached" for c in comps)
        auc = r.get("auc")
        pushed = r.get("pushed")
        scenario = r["scenario"] + (" (fast path)" if r.get("fast_path") else "")
        rows.append(
            [
                f"{r['rows']:,}" if r["rows"] else "-",
                SYSTEM_LABEL[r["system"]],
                scenario,
                r["status"] if r["status"] == "ok" else f"**{r['status']}**",
                fmt_s(r.get("wall_s")),
                fmt_s(r.get("startup_s")),
                fmt_s(r.get("teardown_s")),
                fmt_mb(r.get("peak_rss_mb")),
                fmt_mb(r.get("max_proc_rss_mb")),
                fmt_s(r.get("cpu_s")),
                f"{ran} / {cached}" if comps and r["system"] != "keras" else "",
                f"{auc:.3f}" if isinstance(auc, (int, float)) else "",
                "" if pushed is None else ("yes" if pushed else "no"),
            ]
        )
    md += table(hdr, rows, "lllrrrrrrrrrl")
    failures = [r for r in runs if r.get("status") not in ("ok", None) and r.get("error")]
    if failures:
        md += ["", "Failures and timeouts:", ""]
        for r in failures:
            log = f" (log `{r['log']}`)" if r.get("log") else ""
            md.append(
                f"- {r.get('rows', 0):,} rows, {r['system']} / {r['scenario']}: {r['status']} - {r['error'][:400]}{log}"
            )
    md.append("")

    md += ["## Per component (cold runs)", ""]
    for n in sizes(runs):
        pc, vc, kc = (one(runs, n, s, "cold") for s in SYSTEMS)
        if not (pc or vc):
            continue
        md += [f"### {n:,} rows", ""]
        pp, vp = (phases(pc) if pc else {}), (phases(vc) if vc else {})
        names = merged_order(pc, vc)
        rows = []
        for k in names:
            a, b = pp.get(k, {}), vp.get(k, {})
            rows.append(
                [
                    _label(k, a, b),
                    fmt_s(a.get("seconds")),
                    fmt_mb(a.get("peak_rss_mb")),
                    _st(a),
                    fmt_s(b.get("seconds")),
                    fmt_mb(b.get("peak_rss_mb")),
                    _st(b),
                    _phase_ratio(a.get("seconds"), b.get("seconds")),
                ]
            )
        rows.append(
            [
                "**total**",
                fmt_s(pc.get("wall_s")) if pc else "",
                fmt_mb(pc.get("peak_rss_mb")) if pc else "",
                status_text(pc),
                fmt_s(vc.get("wall_s")) if vc else "",
                fmt_mb(vc.get("peak_rss_mb")) if vc else "",
                status_text(vc),
                fmt_ratio(ratio(pc, vc)),
            ]
        )
        md += table(
            ["component", "project s", "project peak MB", "", "vanilla s", "vanilla peak MB", "", "project / vanilla"],
            rows,
            "lrrlrrlr",
        )
        extra = []
        if pc and pc.get("config_validated_s") is not None:
            extra.append(
                f"this project validated its config {pc['config_validated_s']:.1f} s after start"
                + (
                    f", finished its CSV preflight at {pc['preflight_done_s']:.1f} s"
                    if pc.get("preflight_done_s") is not None
                    else ""
                )
                + f" and started its first component at {pc.get('startup_s', 0):.1f} s"
            )
        if vc and vc.get("wheel_build_s") is not None:
            extra.append(f"vanilla TFX spent {vc['wheel_build_s']:.1f} s of its startup building user-module wheels")
        if kc:
            kp = ", ".join(f"{c['name']} {c['seconds']:.1f} s" for c in kc.get("components", []))
            extra.append(
                f"plain Keras: {status_text(kc)}, {fmt_s(kc.get('wall_s'))} s wall "
                f"(startup {fmt_s(kc.get('startup_s'))} s; {kp}), peak {fmt_mb(kc.get('peak_rss_mb'))} MB"
            )
        if extra:
            md += [""] + [f"- {e}" for e in extra]
        md.append("")

    reruns = [n for n in sizes(runs) if any(find(runs, n, None, s) for s in RERUNS)]
    if reruns:
        md += [
            "## Reruns",
            "",
            "`cached`: the same command again. `cached, no fast path`: this project once more "
            "with `--no-fast-path`, so TFX checks its caches (compared with vanilla TFX's `cached`). `retrain`: "
            "then `trainer.learning_rate` 0.003 -> 0.002 (vanilla TFX: `--learning-rate`, passed through Trainer "
            "`custom_config`). Status and seconds per component; *pushed* = a new model version appeared in the "
            "serving directory.",
            "",
        ]
        for n in reruns:
            for scenario in RERUNS:
                pr = one(runs, n, "project", scenario)
                vr = one(runs, n, "vanilla", "cached" if scenario == NO_FAST_PATH else scenario)
                if not (pr or vr) or (scenario == NO_FAST_PATH and not pr):
                    continue
                pp, vp = (phases(pr) if pr else {}), (phases(vr) if vr else {})
                names = merged_order(pr, vr)
                rows = [[_label(k, pp.get(k, {}), vp.get(k, {})), _cell(pp.get(k)), _cell(vp.get(k))] for k in names]
                rows.append(
                    [
                        "**total**",
                        f"{status_text(pr)}, {fmt_s(pr.get('wall_s')) if pr else ''} s, pushed "
                        f"{_yn(pr.get('pushed') if pr else None)}",
                        f"{status_text(vr)}, {fmt_s(vr.get('wall_s')) if vr else ''} s, pushed "
                        f"{_yn(vr.get('pushed') if vr else None)}",
                    ]
                )
                md += [f"### {scenario}, {n:,} rows", ""]
                md += table(["component", "this project", "vanilla TFX"], rows, "lll")
                md.append("")

    md += ["## Scale (cold runs)", "", "![time and memory against rows](scale.png)", ""]
    hdr = [
        "rows",
        "system",
        "status",
        "wall s",
        "s per 1k rows",
        "marginal s per 1k rows vs previous size",
        "log-log slope vs previous size",
        "peak RSS MB",
        "max proc MB",
    ]
    rows = [
        [
            f"{s['rows']:,}",
            SYSTEM_LABEL[s["system"]],
            s["status"],
            fmt_s(s["wall_s"]),
            "" if s["s_per_1k_rows"] is None else f"{s['s_per_1k_rows']:.3f}",
            "" if s["marginal_s_per_1k_rows"] is None else f"{s['marginal_s_per_1k_rows']:.3f}",
            "" if s["loglog_slope_from_previous"] is None else f"{s['loglog_slope_from_previous']:.2f}",
            fmt_mb(s["peak_rss_mb"]),
            fmt_mb(s["max_proc_rss_mb"]),
        ]
        for s in scale_rows(runs)
    ]
    md += table(hdr, rows, "lllrrrrrr")
    md.append("")

    bad = find(runs, system="project", scenario="bad config")
    probes = find(runs, system="probe")
    gen = find(runs, system="datagen")
    if bad or probes or gen:
        md += ["## Fixed costs", ""]
        rows = []
        for r in bad:
            rows.append(
                [
                    "project: reject `--set trainer.train_steps=abc`",
                    f"exit {r.get('exit_code')}",
                    fmt_s(r.get("wall_s")) if r.get("wall_s", 0) >= 10 else f"{r.get('wall_s', 0):.2f}",
                    fmt_mb(r.get("peak_rss_mb")),
                ]
            )
        for r in probes:
            rows.append(
                [
                    f"import probe: {r['scenario']}",
                    r["status"],
                    f"{r.get('wall_s', 0):.2f}",
                    fmt_mb(r.get("peak_rss_mb")),
                ]
            )
        for r in gen:
            rows.append(
                [
                    f"datagen {r['rows']:,} rows (not part of any comparison)",
                    r["status"],
                    fmt_s(r.get("wall_s")),
                    fmt_mb(r.get("peak_rss_mb")),
                ]
            )
        md += table(["what", "status", "wall s", "peak RSS MB"], rows, "llrr")
        md.append("")
    md += [
        "Files: `results.csv` (one row per run), `components.csv` (one row per run and component), "
        "`scale.csv` (cold runs by size), `results.json` (everything, for `--report-only`); "
        "per-run console logs with arrival timestamps under `tmp/logs/`.",
        "",
    ]
    return "\n".join(md)


def _phase_ratio(a: float | None, b: float | None) -> str:
    """Ratio of two phase times, when one of them is long enough to matter and neither rounds to zero."""
    if not a or not b or max(a, b) < MIN_RATIO_S or min(a, b) < 0.05:
        return ""
    return fmt_ratio(a / b)


def _label(key: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    """The row label: the component's own name, or both names when the systems differ (ImportSchemaGen / SchemaGen)."""
    names = [c["shown"] for c in (a, b) if c]
    return names[0] if len(set(names)) == 1 else " / ".join(names) if names else key


def _load(x: Any) -> str:
    return "?" if not x else " / ".join(f"{v:.2f}" for v in x)


def _st(c: dict[str, Any]) -> str:
    s = c.get("status", "")
    return "" if s in ("ran", "") else s


def _cell(c: dict[str, Any] | None) -> str:
    if not c:
        return ""
    return f"{c['status'] + ' ' if c.get('status') else ''}{c['seconds']:.1f} s"


def _yn(x: Any) -> str:
    return "?" if x is None else ("yes" if x else "no")


# ---------------------------------------------------------------------------- plot


def plot(runs: list[Run], path: str, meta: dict[str, Any]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = sizes(runs)
    if not ns:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    style = {"project": ("o-", "C0"), "vanilla": ("s-", "C1"), "keras": ("^-", "C2")}
    ax_t, ax_c, ax_m = axes
    for system in SYSTEMS:
        pts = [(n, r) for n in ns for r in [one(runs, n, system, "cold")] if r]
        good = [(n, r["wall_s"]) for n, r in pts if ok(r)]
        bad = [(n, r.get("wall_s") or 0) for n, r in pts if not ok(r) and r.get("wall_s")]
        mk, col = style[system]
        if good:
            ax_t.plot(*zip(*good, strict=False), mk, color=col, label=SYSTEM_LABEL[system])
            mem = [(n, r["peak_rss_mb"] / 1024) for n, r in pts if ok(r)]
            ax_m.plot(*zip(*mem, strict=False), mk, color=col, label=SYSTEM_LABEL[system])
        if bad:
            ax_t.plot(
                *zip(*bad, strict=False),
                "x",
                color=col,
                markersize=11,
                mew=2,
                label=f"{SYSTEM_LABEL[system]}: failed / timed out",
            )
    ref = [(n, r["wall_s"]) for n in ns for r in [one(runs, n, "project", "cold")] if ok(r)]
    if ref:
        n0, t0 = ref[-1]
        xs = [ns[0], ns[-1]]
        ax_t.plot(xs, [t0 * x / n0 for x in xs], ":", color="gray", label="linear in rows (through last point)")
    ax_t.set(
        xscale="log",
        yscale="log",
        xlabel="rows",
        ylabel="wall time, s",
        title=f"Cold run wall time ({meta.get('train_steps')} train steps)",
    )
    project_cold = [r for n in ns for r in [one(runs, n, "project", "cold")] if ok(r)]
    colors = plt.get_cmap("tab20").colors
    for i, name in enumerate(n for n in merged_order(*project_cold) if n != "(between)"):
        pts = [(r["rows"], phases(r).get(name, {}).get("seconds")) for r in project_cold]
        pts = [(n, s) for n, s in pts if s]
        if pts:
            ax_c.plot(*zip(*pts, strict=False), "o-", label=name, markersize=4, color=colors[i % len(colors)])
    ax_c.set(xscale="log", yscale="log", xlabel="rows", ylabel="seconds", title="This project, per component (cold)")
    ax_m.axhline(GOAL_PEAK_RSS_GB, color="red", ls="--", lw=1, label=f"goal {GOAL_PEAK_RSS_GB:.0f} GB")
    ax_m.set(xscale="log", xlabel="rows", ylabel="peak RSS of the process tree, GB", title="Peak memory (cold)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    m = meta.get("machine", {})
    fig.suptitle(f"{m.get('logical_cores')} cores, {m.get('memory_gb')} GB RAM; {m.get('cpu_model', '')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_all(meta: dict[str, Any], runs: list[Run], out: str) -> list[str]:
    os.makedirs(out, exist_ok=True)
    paths = [
        write_csv(os.path.join(out, "results.csv"), RUN_FIELDS, run_rows(runs)),
        write_csv(
            os.path.join(out, "components.csv"),
            ["rows", "system", "scenario", "run_status", "component", "status", "seconds", "peak_rss_mb", "samples"],
            component_rows(runs),
        ),
    ]
    scale = list(scale_rows(runs))
    fields = [
        "rows",
        "system",
        "status",
        "wall_s",
        "s_per_1k_rows",
        "marginal_s_per_1k_rows",
        "loglog_slope_from_previous",
        "peak_rss_mb",
        "max_proc_rss_mb",
        "cpu_s",
    ]
    fields += sorted({k for s in scale for k in s} - set(fields))
    paths.append(write_csv(os.path.join(out, "scale.csv"), fields, scale))
    md = os.path.join(out, "results.md")
    with open(md, "w", encoding="utf-8") as fh:
        fh.write(markdown(meta, runs))
    paths.append(md)
    try:
        png = plot(runs, os.path.join(out, "scale.png"), meta)
        if png:
            paths.append(png)
    except Exception as exc:  # noqa: BLE001 - a plotting problem must not lose the tables
        print(f"warning: scale.png not written: {type(exc).__name__}: {exc}")
    return paths
