"""The data-validation report: anomalies, drift and per-feature statistics as one offline HTML file.

Inputs are what TFX writes: StatisticsGen's ``Split-<name>/FeatureStats.pb``
(:func:`load_statistics`) and ExampleValidator's ``Split-<name>/SchemaDiff.pb``
(:func:`load_anomalies`, which also says how to fix each anomaly). Drift measurements
come from TFDV's ``drift_skew_info`` (:func:`drift_from_anomalies`) when the schema has
``drift_comparator`` entries and the previous span's statistics were compared.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from pipelines.results.reports._html import (
    DASH, Html, badge, fmt_num, fmt_pct, join, key_values, page, section, svg_bars, svg_histogram, table, tag,
    write_atomic,
)

if TYPE_CHECKING:
    from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

__all__ = ["anomalies_from_proto", "drift_from_anomalies", "load_anomalies", "load_statistics",
           "render_validation_report"]

TOP_VALUES_SHOWN = 10

# --- reading TFX artifacts ----------------------------------------------------------------------

def _split_files(path: str, filename: str) -> list[tuple[str | None, str]]:
    """[(split name or None, file)] for a file, a ``Split-<name>`` folder or an artifact folder."""
    if not os.path.isdir(path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file or directory")
        parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
        return [(parent.removeprefix("Split-") if parent.startswith("Split-") else None, path)]
    direct = os.path.join(path, filename)
    if os.path.exists(direct):
        base = os.path.basename(os.path.normpath(path))
        return [(base.removeprefix("Split-") if base.startswith("Split-") else None, direct)]
    splits = sorted((n for n in os.listdir(path) if n.startswith("Split-")), key=lambda n: (n != "Split-train", n))
    found = [(name.removeprefix("Split-"), os.path.join(path, name, filename)) for name in splits
             if os.path.exists(os.path.join(path, name, filename))]
    if not found:
        raise FileNotFoundError(f"{path}: no {filename} here or in its Split-*/ folders")
    return found


def load_statistics(path: str | os.PathLike[str]) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Read StatisticsGen output: a binary ``FeatureStats.pb``, its ``Split-<name>`` folder or the artifact folder.

    From an artifact folder every split is loaded; datasets without a name are named
    after their split, so the report can tell ``train`` from ``eval``.

    Example:
        >>> stats = load_statistics("runs/ad_click/StatisticsGen/statistics/3")  # train + eval
        >>> stats = load_statistics("runs/ad_click/StatisticsGen/statistics/3/Split-train/FeatureStats.pb")
    """
    from google.protobuf.message import DecodeError
    from tensorflow_metadata.proto.v0 import statistics_pb2

    merged = statistics_pb2.DatasetFeatureStatisticsList()
    for split, file in _split_files(os.fspath(path), "FeatureStats.pb"):
        one = statistics_pb2.DatasetFeatureStatisticsList()
        with open(file, "rb") as fh:
            try:
                one.ParseFromString(fh.read())
            except DecodeError as exc:
                raise ValueError(f"{file}: not a binary DatasetFeatureStatisticsList "
                                 "(for TFDV's TFRecord format use tfdv.load_stats_binary / load_statistics)") from exc
        for dataset in one.datasets:
            if split and not dataset.name:
                dataset.name = split
            merged.datasets.add().CopyFrom(dataset)
    return merged


def anomalies_from_proto(anomalies: anomalies_pb2.Anomalies, *, split: str | None = None) -> list[dict[str, Any]]:
    """TFDV ``Anomalies`` -> report rows ``{feature, kind, description, fix, severity, split}``.

    The rows and their fixes are the validation gate's (:func:`components.gate.findings_from_anomalies`),
    so the report and the console say the same thing.

    Example:
        >>> rows = anomalies_from_proto(tfdv.validate_statistics(stats, schema), split="train")
    """
    from components.gate import findings_from_anomalies

    return [asdict(f) for f in findings_from_anomalies(anomalies, split or "", None)]


def load_anomalies(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read ExampleValidator output (``SchemaDiff.pb``, its split folder or the artifact folder) as report rows."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    rows: list[dict[str, str]] = []
    for split, file in _split_files(os.fspath(path), "SchemaDiff.pb"):
        proto = anomalies_pb2.Anomalies()
        with open(file, "rb") as fh:
            proto.ParseFromString(fh.read())
        rows += anomalies_from_proto(proto, split=split)
    return rows


def drift_from_anomalies(anomalies: anomalies_pb2.Anomalies) -> list[dict[str, Any]]:
    """The drift measurements TFDV recorded (``drift_skew_info``) as report rows.

    TFDV measures drift when the schema has a ``drift_comparator`` for a feature and
    ``tfdv.validate_statistics(stats, schema, previous_statistics=...)`` is given the previous span.
    """
    from components.gate import drift_skew_rows

    return drift_skew_rows(anomalies)[0]


# --- statistics -> rows -------------------------------------------------------------------------

def _feature_name(feature: Any) -> str:
    return feature.name or ".".join(feature.path.step)


def _common(feature: Any) -> Any:
    which = feature.WhichOneof("stats")
    return getattr(feature, which).common_stats if which in ("num_stats", "string_stats", "bytes_stats",
                                                              "struct_stats") else None


def _histogram(num_stats: Any) -> list[tuple[float, float, float]]:
    # STANDARD (equal-width) is what a histogram should show; TFDV also writes QUANTILES.
    for hist in num_stats.histograms:
        if hist.type == hist.STANDARD:
            return [(b.low_value, b.high_value, b.sample_count) for b in hist.buckets]
    return []


def _value_counts(string_stats: Any) -> tuple[dict[str, float], bool]:
    """Counts by value from top values and the rank histogram; True when that lists every value."""
    counts: dict[str, float] = {}
    for b in string_stats.rank_histogram.buckets:
        counts.setdefault(b.label, b.sample_count)
    for tv in string_stats.top_values:
        counts[tv.value] = tv.frequency
    return counts, bool(string_stats.unique) and len(counts) >= string_stats.unique


def _feature_cell(name: str, flagged: bool) -> Html:
    return join([tag("strong", name), " ", badge("anomaly", "bad") if flagged else ""])


def _numeric_row(feature: Any, prev: Any) -> list[Any]:
    ns, cs = feature.num_stats, feature.num_stats.common_stats
    total = cs.num_non_missing + cs.num_missing
    values = cs.tot_num_values or cs.num_non_missing
    prev_hist = _histogram(prev.num_stats) if prev is not None and prev.HasField("num_stats") else None

    def stat(value: float) -> str:  # an all-missing feature has zeros, not statistics
        return fmt_num(value) if cs.num_non_missing else DASH

    chart = svg_histogram(_histogram(ns), prev_hist, label=f"histogram of {_feature_name(feature)}")
    return [fmt_num(cs.num_non_missing), fmt_pct(cs.num_missing, total), stat(ns.mean), stat(ns.std_dev),
            stat(ns.min), stat(ns.median), stat(ns.max), fmt_pct(ns.num_zeros, values), chart]


def _categorical_row(feature: Any, prev: Any) -> list[Any]:
    ss, cs = feature.string_stats, feature.string_stats.common_stats
    total = cs.num_non_missing + cs.num_missing
    prev_counts, prev_complete, scale = None, False, 1.0
    if prev is not None and prev.HasField("string_stats"):
        prev_counts, prev_complete = _value_counts(prev.string_stats)
        prev_total = prev.string_stats.common_stats.tot_num_values or prev.string_stats.common_stats.num_non_missing
        mine = cs.tot_num_values or cs.num_non_missing
        scale = mine / prev_total if prev_total else 0.0
    items = []
    for tv in list(ss.top_values)[:TOP_VALUES_SHOWN]:
        prev_value = None
        if prev_counts is not None:
            if tv.value in prev_counts:
                prev_value = prev_counts[tv.value] * scale
            elif prev_complete:
                prev_value = 0.0
        items.append((tv.value, tv.frequency, prev_value))
    more = ss.unique - len(items)
    if items and max(count for _, count, _ in items) <= 1:  # an id-like column: bars of 1 say nothing
        return [fmt_num(cs.num_non_missing), fmt_pct(cs.num_missing, total), fmt_num(ss.unique),
                fmt_num(ss.avg_length), tag("span", f"every value is distinct ({ss.unique:,} values)",
                                            class_="muted")]
    chart = svg_bars(items, label=f"top values of {_feature_name(feature)}")
    if more > 0:
        chart = join([chart, tag("div", f"+ {more:,} more values", class_="muted")])
    return [fmt_num(cs.num_non_missing), fmt_pct(cs.num_missing, total), fmt_num(ss.unique),
            fmt_num(ss.avg_length) if cs.num_non_missing else DASH, chart]


def _dataset_section(index: int, dataset: Any, previous: Any, flagged: set[str],
                     ids: dict[Any, str]) -> Html:
    """Tables for one dataset (split); ``flagged`` are its features with anomalies; fills ``ids``."""
    prev_by_name = {_feature_name(f): f for f in previous.features} if previous is not None else {}
    groups: dict[str, list[tuple[str, str, list[Any]]]] = {"num": [], "cat": [], "other": []}
    for i, feature in enumerate(dataset.features):
        name, row_id = _feature_name(feature), f"f-{index}-{i}"
        ids.setdefault((dataset.name, name), row_id)
        ids.setdefault(name, row_id)
        prev = prev_by_name.get(name)
        which = feature.WhichOneof("stats")
        if which == "num_stats":
            groups["num"].append((name, row_id, _numeric_row(feature, prev)))
        elif which == "string_stats":
            groups["cat"].append((name, row_id, _categorical_row(feature, prev)))
        else:
            cs = _common(feature)
            kind = feature.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[feature.type].name
            groups["other"].append((name, row_id, [
                kind, fmt_num(cs.num_non_missing) if cs else DASH,
                fmt_pct(cs.num_missing, cs.num_non_missing + cs.num_missing) if cs else DASH]))

    def group_table(key: str, headers: list[str], numeric: Iterable[int]) -> Html:
        group = groups[key]
        if not group:
            return Html("")
        return table(headers, [[_feature_cell(n, n in flagged)] + cells for n, _, cells in group],
                     table_id=f"{headers[0].split()[0]}-{index}", numeric=numeric,
                     row_classes=["has-anomaly" if n in flagged else None for n, _, _ in group],
                     row_ids=[rid for _, rid, _ in group])

    prev_note = f" (previous span: {previous.num_examples:,})" if previous is not None else ""
    legend = '<p class="legend"><span class="sw cur"></span>this span'
    if previous is not None:
        legend += ('<span class="sw prev"></span>previous span (histograms: share of values per unit; '
                   "bars: its count scaled to this span's size)")
    return join([
        tag("h3", f"{dataset.name + ': ' if dataset.name else ''}{dataset.num_examples:,} examples{prev_note}, "
                  f"{len(dataset.features)} features"),
        Html(legend + "</p>"),
        group_table("num", ["numeric feature", "count", "missing", "mean", "std", "min", "median", "max", "zeros",
                            "histogram"], range(1, 9)),
        group_table("cat", ["categorical feature", "count", "missing", "unique", "avg length",
                            f"top {TOP_VALUES_SHOWN} values (count)"], range(1, 5)),
        group_table("other", ["other feature", "type", "count", "missing"], (2, 3)),
    ])


# --- the report ---------------------------------------------------------------------------------

def _anomaly_table(anomalies: Sequence[dict[str, Any]], ids: dict[Any, str]) -> Html:
    with_split = any(a.get("split") for a in anomalies)
    headers = (["split"] if with_split else []) + ["feature", "kind", "severity", "description", "fix"]
    rows, classes = [], []
    for a in anomalies:
        feature = str(a.get("feature", ""))
        severity = str(a.get("severity") or DASH)
        target = ids.get((a.get("split"), feature)) or ids.get(feature)
        cell = tag("a", feature, href=f"#{target}") if target else tag("span", feature)
        kinds = [k.strip() for k in str(a.get("kind") or DASH).split(",") if k.strip()]
        rows.append(([a.get("split") or DASH] if with_split else []) + [
            cell, join(tag("code", k) for k in kinds), severity, a.get("description") or DASH, a.get("fix") or DASH])
        classes.append("warn" if severity.lower() == "warning" else "bad")
    col_classes = ([None] if with_split else []) + [None, "kind", None, "text", "text"]
    return table(headers, rows, table_id="anomalies", row_classes=classes, col_classes=col_classes,
                 empty="No anomalies: every feature matches the schema.")


def _drift_table(drift: Sequence[dict[str, Any]] | None, has_previous: bool) -> Html:
    if drift is None:
        return tag("p", "No previous span given: drift not measured." if not has_previous else
                   "No drift measurements given. Add a drift_comparator to features in the schema and pass "
                   "the previous span's statistics to tfdv.validate_statistics.", class_="note")
    ordered = sorted(drift, key=lambda d: (not d.get("exceeded"), str(d.get("feature"))))
    rows = [[tag("strong", d.get("feature", "")), d.get("measure", DASH), f"{float(d['value']):.4f}",
             f"{float(d['threshold']):.4f}", badge("alarm", "bad") if d.get("exceeded") else badge("ok", "ok")]
            for d in ordered]
    return table(["feature", "measure", "value", "threshold", "status"], rows, table_id="drift",
                 row_classes=["bad" if d.get("exceeded") else None for d in ordered], numeric=(2, 3),
                 empty="Not measured: no earlier data passed validation (first run, or the same data as then)."
                 if not has_previous else "No drift comparators configured.")


def render_validation_report(
    out_path: str | os.PathLike[str],
    *,
    title: str,
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    anomalies: Sequence[dict[str, Any]],
    drift: Sequence[dict[str, Any]] | None = None,
    previous_statistics: statistics_pb2.DatasetFeatureStatisticsList | None = None,
    run_info: dict[str, Any] | None = None,
) -> str:
    """Write the data-validation report to ``out_path`` (atomically) and return its absolute path.

    Args:
        out_path: the ``.html`` file to write; its folder is created.
        title: page title (escaped).
        statistics: the span's statistics (:func:`load_statistics`), one section per dataset/split.
        anomalies: rows ``{feature, kind, description, fix, severity}`` (optional ``split``), e.g.
            from :func:`load_anomalies`; missing keys show as a dash.
        drift: rows ``{feature, measure, value, threshold, exceeded}`` (:func:`drift_from_anomalies`).
        previous_statistics: the previous span's statistics, overlaid on histograms and bar charts.
        run_info: extra facts for the header (pipeline, run id, data path...), shown as given.

    Example:
        >>> render_validation_report("runs/ad_click/reports/validation.html", title="ad_click data",
        ...     statistics=load_statistics(stats_uri), anomalies=load_anomalies(anomalies_uri))
    """
    anomalies = list(anomalies)
    alarms = sum(1 for d in drift or () if d.get("exceeded"))
    previous = {d.name: d for d in previous_statistics.datasets} if previous_statistics is not None else {}
    prev_list = list(previous_statistics.datasets) if previous_statistics is not None else []

    ids: dict[Any, str] = {}
    stats_parts = []
    for i, dataset in enumerate(statistics.datasets):
        prev = previous.get(dataset.name) or (prev_list[i] if i < len(prev_list) else None)
        # An anomaly without a split, or statistics without split names, cannot be told apart: flag them.
        flagged = {str(a.get("feature")) for a in anomalies
                   if not a.get("split") or not dataset.name or a.get("split") == dataset.name}
        stats_parts.append(_dataset_section(i, dataset, prev, flagged, ids))

    status = [badge(f"{len(anomalies)} anomal{'y' if len(anomalies) == 1 else 'ies'}",
                    "bad" if anomalies else "ok"), " "]
    if drift is not None:
        status += [badge(f"{alarms} drift alarm{'' if alarms == 1 else 's'}", "warn" if alarms else "ok"), " "]
    verdict = "data needs attention" if anomalies or alarms else "data matches the schema"
    def counts(datasets: Sequence[Any]) -> str:
        return ", ".join(f"{d.name} {d.num_examples:,}" if d.name else f"{d.num_examples:,}" for d in datasets)

    examples = counts(statistics.datasets)
    header = join([
        tag("h1", title),
        tag("p", join(status + [tag("strong", verdict)]), class_="status", id="status"),
        tag("p", f"examples: {examples or 'none'}" + (
            "; previous span: " + counts(prev_list)
            if prev_list else ""), class_="muted"),
        key_values(run_info),
    ])
    body = join([
        tag("header", header),
        section("Anomalies", _anomaly_table(anomalies, ids), section_id="anomalies",
                note="ExampleValidator's findings against the schema, with what to change."),
        section("Drift versus the previous span", _drift_table(drift, previous_statistics is not None),
                section_id="drift"),
        section("Feature statistics", join(stats_parts) or tag("p", "No statistics.", class_="note"),
                section_id="statistics"),
    ])
    return write_atomic(out_path, page(title, body, kind="validation-report"))
