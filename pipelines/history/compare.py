"""Two runs side by side: what differed in the config, the data, the schema and the metrics.

- config: every dotted key whose value differs between the two runs' recorded configs
  (``record.py``); a run without a record (another engine made it) says so instead.
- data: each run's span and rows per split, and the largest statistics shifts from run A to run B
  (numeric features: the change of the mean in A's standard deviations; string features: the
  L-infinity distance between their top-value frequencies, TFDV's drift measure for categories).
- schema: the schema artifacts, and the features added, removed or changed between them.
- metrics: overall and per slice, A, B and B - A.

Example:
    >>> c = compare_runs(config, "latest~1", "latest")
    >>> c.config_changes
    [{'key': 'trainer.learning_rate', 'a': 0.003, 'b': 0.004}]
    >>> c.metrics["overall"]["auc"]
    {'a': 0.8733, 'b': 0.8648, 'delta': -0.0085}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.history.catalog import RunView, load_run
from pipelines.results.reports._format import fmt_diff, fmt_metric, fmt_num

__all__ = [
    "Comparison",
    "compare_runs",
    "comparison_json",
    "diff_configs",
    "diff_metrics",
    "diff_schemas",
    "flatten",
    "format_comparison",
    "row_counts",
    "run_statistics",
    "statistics_shifts",
]

ABSENT = "<absent>"
SHIFTS_SHOWN = 5


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> ``{"a.b.c": leaf}``; lists and scalars are leaves.

    Example:
        >>> flatten({"trainer": {"learning_rate": 0.003, "hidden": [64, 32]}})
        {'trainer.learning_rate': 0.003, 'trainer.hidden': [64, 32]}
    """
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value} if prefix else {}


def diff_configs(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every dotted key whose value differs, sorted; a key only one side has shows ``<absent>`` on the other.

    Example:
        >>> diff_configs({"trainer": {"learning_rate": 0.003}}, {"trainer": {"learning_rate": 0.004}})
        [{'key': 'trainer.learning_rate', 'a': 0.003, 'b': 0.004}]
    """
    fa, fb = flatten(a), flatten(b)
    return [
        {"key": key, "a": fa.get(key, ABSENT), "b": fb.get(key, ABSENT)}
        for key in sorted(set(fa) | set(fb))
        if fa.get(key, ABSENT) != fb.get(key, ABSENT)
    ]


def diff_metrics(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, dict[str, float | None]]:
    """``{metric: {a, b, delta}}`` over the metrics either run has; delta is B - A when both have it.

    Example:
        >>> diff_metrics({"auc": 0.87}, {"auc": 0.86, "recall": 0.7})
        {'auc': {'a': 0.87, 'b': 0.86, 'delta': -0.010000000000000009}, 'recall': {'a': None, 'b': 0.7, 'delta': None}}
    """
    out: dict[str, dict[str, float | None]] = {}
    for name in sorted(set(a) | set(b)):
        va, vb = a.get(name), b.get(name)
        out[name] = {"a": va, "b": vb, "delta": vb - va if va is not None and vb is not None else None}
    return out


def row_counts(stats: Any) -> dict[str, int]:
    """Rows per split of a ``DatasetFeatureStatisticsList`` (its datasets are named by split)."""
    return {d.name or "all": int(d.num_examples) for d in stats.datasets}


def _features(stats: Any, split: str) -> dict[str, Any]:
    datasets = [d for d in stats.datasets if d.name == split] or list(stats.datasets[:1])
    return {".".join(f.path.step) or f.name: f for d in datasets for f in d.features}


def _top_freq(feature: Any) -> dict[str, float]:
    values = feature.string_stats.top_values
    total = sum(v.frequency for v in values)
    return {v.value: v.frequency / total for v in values} if total else {}


def statistics_shifts(a: Any, b: Any, split: str = "train", top: int = SHIFTS_SHOWN) -> list[dict[str, Any]]:
    """The ``top`` largest feature shifts from statistics ``a`` to ``b`` (both ``DatasetFeatureStatisticsList``).

    Numeric: ``|mean_b - mean_a| / std_a`` ("mean shift (std)"); string: the L-infinity distance of
    the top-value frequencies ("L-infinity"). Largest first.
    """
    fa, fb = _features(a, split), _features(b, split)
    shifts = []
    for name in sorted(set(fa) & set(fb)):
        x, y = fa[name], fb[name]
        if x.HasField("num_stats") and y.HasField("num_stats"):
            std = x.num_stats.std_dev or 1.0
            value = abs(y.num_stats.mean - x.num_stats.mean) / std
            shifts.append({"feature": name, "measure": "mean shift (std)", "value": value,
                           "a": x.num_stats.mean, "b": y.num_stats.mean})  # fmt: skip
        elif x.HasField("string_stats") and y.HasField("string_stats"):
            pa, pb = _top_freq(x), _top_freq(y)
            value = max((abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb)), default=0.0)
            shifts.append({"feature": name, "measure": "L-infinity", "value": value,
                           "a": x.string_stats.unique, "b": y.string_stats.unique})  # fmt: skip
    return sorted(shifts, key=lambda s: -s["value"])[:top]


def diff_schemas(a: Any, b: Any) -> list[str]:
    """One line per feature added, removed or changed between two ``schema_pb2.Schema``s; [] when equal."""
    fa = {f.name: f for f in a.feature}
    fb = {f.name: f for f in b.feature}
    lines = [f"added: {n}" for n in sorted(set(fb) - set(fa))]
    lines += [f"removed: {n}" for n in sorted(set(fa) - set(fb))]
    lines += [f"changed: {n}" for n in sorted(set(fa) & set(fb)) if fa[n] != fb[n]]
    if not lines and a != b:
        lines.append("changed: settings outside the features (domains, environments, comparators)")
    return lines


@dataclass
class Comparison:
    """What ``runs compare`` reports; ``a`` and ``b`` are the two runs (A the older one, as given)."""

    a: RunView
    b: RunView
    config_changes: list[dict[str, Any]] | None  # None: a config was not recorded
    config_note: str = ""
    spans: tuple[int | None, int | None] = (None, None)
    rows: tuple[dict[str, int], dict[str, int]] = field(default_factory=lambda: ({}, {}))
    shifts: list[dict[str, Any]] = field(default_factory=list)
    schema: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # slice -> metric -> a/b/delta


def _uri(view: RunView, type_name: str, producer: str) -> str | None:
    found = view.metadata.of_type(type_name, producer=producer)
    return found[-1].uri if found else None


def run_statistics(view: RunView) -> tuple[Any, Any]:
    """(the run's StatisticsGen statistics, the previous data's the gate measured drift against), each a
    ``DatasetFeatureStatisticsList`` or None when the run has none."""
    from pipelines.results.reports import load_statistics

    uri = view.summary.artifacts.get("statistics") or _uri(view, "ExampleStatistics", "StatisticsGen")
    previous = view.summary.artifacts.get("baseline_statistics")
    return tuple(load_statistics(u) if u and fs.isdir(u) else None for u in (uri, previous))  # type: ignore[return-value]


def _schema(uri: str | None) -> Any:
    from components.schema_file import read_schema

    path = fs.join(uri, "schema.pbtxt") if uri else None
    return read_schema(path) if path and fs.exists(path) else None


def compare_runs(config: PipelineConfig, a: str, b: str) -> Comparison:
    """Compare run ``a`` with run ``b`` (ids, ``latest`` or ``latest~N``).

    Raises:
        ConfigError: either run does not exist (exit 2).
    """
    va, vb = load_run(config, a), load_run(config, b)
    if va.config is not None and vb.config is not None:
        c = Comparison(va, vb, diff_configs(va.config, vb.config))
    else:
        missing = [v.run_id for v in (va, vb) if v.config is None]
        note = f"config not recorded for {', '.join(missing)} (not run by pipelines.run): configs not compared"
        c = Comparison(va, vb, None, note)
    c.spans = (va.span, vb.span)
    sa, sb = run_statistics(va)[0], run_statistics(vb)[0]
    c.rows = (row_counts(sa) if sa else {}, row_counts(sb) if sb else {})
    if sa is not None and sb is not None:
        c.shifts = statistics_shifts(sa, sb)
    ua, ub = _uri(va, "Schema", "ImportSchemaGen"), _uri(vb, "Schema", "ImportSchemaGen")
    xa, xb = (_schema(ua), _schema(ub)) if ua != ub else (None, None)
    c.schema = {"a": ua, "b": ub, "changes": diff_schemas(xa, xb) if xa is not None and xb is not None else []}
    c.metrics = {"overall": diff_metrics(va.summary.metrics, vb.summary.metrics)}
    for name in sorted(set(va.summary.slices) | set(vb.summary.slices)):
        c.metrics[name] = diff_metrics(va.summary.slices.get(name, {}), vb.summary.slices.get(name, {}))
    if c.metrics["overall"] == {} and len(c.metrics) == 1:
        c.metrics = {}
    return c


def _num(x: Any) -> str:
    return "-" if x is None else fmt_metric(x) if isinstance(x, float) else str(x)


def _metric_lines(c: Comparison) -> list[str]:
    if not c.metrics:
        return ["metrics: neither run has an evaluation"]
    missing = [side for side, v in (("A", c.a), ("B", c.b)) if not v.summary.metrics]
    if missing:
        return [f"metrics: only {'B' if missing == ['A'] else 'A'} has an evaluation ({missing[0]} stopped before it)"]
    lines = []
    width = max(len(m) for metrics in c.metrics.values() for m in metrics)
    for name, metrics in c.metrics.items():
        lines.append("metrics (overall):" if name == "overall" else f"  slice {name}:")
        for metric, v in metrics.items():
            delta = fmt_diff(v["delta"]) if v["delta"] is not None else "-"
            lines.append(f"    {metric:<{width}}  {_num(v['a']):>8} -> {_num(v['b']):>8}  {delta:>8}")
    return lines


def format_comparison(c: Comparison) -> str:
    """The ``runs compare`` text: config, data, schema, metrics, each with A, B and the change."""
    lines = [f"A: {c.a.run_id}  {c.a.status} ({c.a.why})", f"B: {c.b.run_id}  {c.b.status} ({c.b.why})", ""]
    if c.config_changes is None:
        lines.append(c.config_note)
    elif not c.config_changes:
        lines.append("config: the same")
    else:
        lines.append(f"config: {len(c.config_changes)} key(s) differ")
        lines += [f"  {d['key']}: {d['a']} -> {d['b']}" for d in c.config_changes]
    lines.append(f"data: span {_num(c.spans[0])} -> {_num(c.spans[1])}")
    for split in sorted(set(c.rows[0]) | set(c.rows[1])):
        ra, rb = c.rows[0].get(split), c.rows[1].get(split)
        change = f" ({fmt_diff(rb - ra)})" if ra is not None and rb is not None else ""
        shown = [fmt_num(r) if r is not None else "-" for r in (ra, rb)]
        lines.append(f"  rows[{split}]: {shown[0]} -> {shown[1]}{change}")
    moved = [s for s in c.shifts if s["value"] > 0]
    if moved:
        lines.append("  largest statistics shifts (train):")
        for s in moved:
            lines.append(f"    {s['feature']}: {s['measure']} {s['value']:.4f} ({_num(s['a'])} -> {_num(s['b'])})")
    elif c.shifts:
        lines.append("  statistics: no feature shifted")
    if c.schema.get("a") == c.schema.get("b"):
        lines.append(f"schema: the same ({c.schema.get('a') or 'none'})")
    else:
        lines.append(f"schema: {c.schema.get('a')} -> {c.schema.get('b')}")
        lines += [f"  {line}" for line in c.schema.get("changes") or ["same features"]]
    lines += _metric_lines(c)
    lines.append(f"blessed: {'yes' if c.a.blessed else 'no'} -> {'yes' if c.b.blessed else 'no'}")
    lines.append(f"pushed version: {_num(c.a.pushed_version)} -> {_num(c.b.pushed_version)}")
    return "\n".join(lines)


def comparison_json(c: Comparison) -> dict[str, Any]:
    """``runs compare --json``."""
    return {
        "a": c.a.row(),
        "b": c.b.row(),
        "config": c.config_changes,
        "config_note": c.config_note or None,
        "data": {"spans": list(c.spans), "rows": list(c.rows), "shifts": c.shifts},
        "schema": c.schema,
        "metrics": c.metrics,
    }
