"""The data-validation report: anomalies, drift and per-feature statistics as one offline HTML file.

Inputs are what TFX writes: StatisticsGen's ``Split-<name>/FeatureStats.pb``
(:func:`load_statistics`) and ExampleValidator's ``Split-<name>/SchemaDiff.pb``
(:func:`load_anomalies`, which also says how to fix each anomaly). Drift measurements
come from TFDV's ``drift_skew_info`` (:func:`drift_from_anomalies`) when the schema has
``drift_comparator`` entries and the previous span's statistics were compared.
The page is ``templates/validation.html.j2``; this module turns the protos into its rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from components import filesystem as fs
from pipelines.results.reports import _charts
from pipelines.results.reports._format import DASH, fmt_num, fmt_pct, image_rows
from pipelines.results.reports._render import render, write_report

if TYPE_CHECKING:
    from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

__all__ = [
    "anomalies_from_proto",
    "drift_from_anomalies",
    "load_anomalies",
    "load_statistics",
    "render_validation_report",
]

TOP_VALUES_SHOWN = 10

# --- reading TFX artifacts ----------------------------------------------------------------------


def _split_of(folder_name: str) -> str | None:
    return folder_name.removeprefix("Split-") if folder_name.startswith("Split-") else None


def _split_files(path: str, filename: str) -> list[tuple[str | None, str]]:
    """[(split name or None, file)] for a file, a ``Split-<name>`` folder or an artifact folder."""
    parts = (path if fs.is_remote(path) else os.path.abspath(path)).rstrip("/").replace(os.sep, "/").split("/")
    if not fs.isdir(path):
        if not fs.exists(path):
            raise FileNotFoundError(f"{path}: no such file or directory")
        return [(_split_of(parts[-2]) if len(parts) > 1 else None, path)]
    direct = fs.join(path, filename)
    if fs.exists(direct):
        return [(_split_of(parts[-1]), direct)]
    splits = sorted((n for n in fs.listdir(path) if n.startswith("Split-")), key=lambda n: (n != "Split-train", n))
    found = [
        (_split_of(name), fs.join(path, name, filename)) for name in splits if fs.exists(fs.join(path, name, filename))
    ]
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
        try:
            one.ParseFromString(fs.read_bytes(file))
        except DecodeError as exc:
            raise ValueError(
                f"{file}: not a binary DatasetFeatureStatisticsList "
                "(for TFDV's TFRecord format use tfdv.load_stats_binary / load_statistics)"
            ) from exc
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
        proto.ParseFromString(fs.read_bytes(file))
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
    return (
        getattr(feature, which).common_stats
        if which in ("num_stats", "string_stats", "bytes_stats", "struct_stats")
        else None
    )


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


def _presence(cs: Any) -> tuple[float, float, float]:
    """(examples with a value, examples missing it, all examples) from a feature's ``common_stats``.

    TFDV's ``num_missing`` counts examples without the feature; ExampleGen writes an empty CSV
    cell as the feature with an empty value list, which TFDV counts as non-missing. For a
    feature of at most one value per example (every CSV column) the empty lists are exactly
    ``num_non_missing - tot_num_values``; for longer lists, TFDV's quantiles of values per
    example (``num_values_histogram``) give the share of examples with none.
    """
    total = cs.num_non_missing + cs.num_missing
    if not cs.num_non_missing or cs.min_num_values > 0:
        empty = 0.0
    elif cs.max_num_values <= 1:
        empty = float(cs.num_non_missing - cs.tot_num_values)
    else:
        empty = sum(b.sample_count for b in cs.num_values_histogram.buckets if b.high_value < 1)
    present = max(cs.num_non_missing - empty, 0.0)
    return present, total - present, total


def _numeric_row(feature: Any, prev: Any) -> dict[str, Any]:
    ns, cs = feature.num_stats, feature.num_stats.common_stats
    present, missing, total = _presence(cs)
    values = cs.tot_num_values or cs.num_non_missing
    prev_hist = _histogram(prev.num_stats) if prev is not None and prev.HasField("num_stats") else None

    def stat(value: float) -> str:  # an all-missing feature has zeros, not statistics
        return fmt_num(value) if present else DASH

    return {
        "cells": [
            fmt_num(present),
            fmt_pct(missing, total),
            stat(ns.mean),
            stat(ns.std_dev),
            stat(ns.min),
            stat(ns.median),
            stat(ns.max),
            fmt_pct(ns.num_zeros, values),
        ],
        "chart": _charts.histogram(_histogram(ns), prev_hist, label=f"histogram of {_feature_name(feature)}"),
    }


def _categorical_row(feature: Any, prev: Any) -> dict[str, Any]:
    ss, cs = feature.string_stats, feature.string_stats.common_stats
    present, missing, total = _presence(cs)
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
    row: dict[str, Any] = {
        "cells": [
            fmt_num(present),
            fmt_pct(missing, total),
            fmt_num(ss.unique),
            fmt_num(ss.avg_length) if present else DASH,
        ],
        "chart": None,
        "more": None,
        "distinct": None,
    }
    if items and max(count for _, count, _ in items) <= 1:  # an id-like column: bars of 1 say nothing
        row["cells"][3] = fmt_num(ss.avg_length)
        row["distinct"] = f"every value is distinct ({ss.unique:,} values)"
        return row
    row["chart"] = _charts.bars(items, label=f"top values of {_feature_name(feature)}")
    more = ss.unique - len(items)
    row["more"] = f"+ {more:,} more values" if more > 0 else None
    return row


def _dataset_view(index: int, dataset: Any, previous: Any, flagged: set[str], ids: dict[Any, str]) -> dict[str, Any]:
    """One dataset (split) for the template; ``flagged`` are its features with anomalies; fills ``ids``."""
    prev_by_name = {_feature_name(f): f for f in previous.features} if previous is not None else {}
    groups: dict[str, list[dict[str, Any]]] = {"numeric": [], "categorical": [], "other": []}
    for i, feature in enumerate(dataset.features):
        name, row_id = _feature_name(feature), f"f-{index}-{i}"
        ids.setdefault((dataset.name, name), row_id)
        ids.setdefault(name, row_id)
        prev = prev_by_name.get(name)
        which = feature.WhichOneof("stats")
        if which == "num_stats":
            group, row = "numeric", _numeric_row(feature, prev)
        elif which == "string_stats":
            group, row = "categorical", _categorical_row(feature, prev)
        else:
            cs = _common(feature)
            kind = feature.DESCRIPTOR.fields_by_name["type"].enum_type.values_by_number[feature.type].name
            present, missing, total = _presence(cs) if cs else (None, None, None)
            group, row = (
                "other",
                {"cells": [kind, fmt_num(present) if cs else DASH, fmt_pct(missing, total) if cs else DASH]},
            )
        groups[group].append({"name": name, "id": row_id, "flagged": name in flagged, **row})
    prev_note = f" (previous span: {previous.num_examples:,})" if previous is not None else ""
    return {
        "index": index,
        "has_previous": previous is not None,
        "groups": groups,
        "heading": f"{dataset.name + ': ' if dataset.name else ''}{dataset.num_examples:,} examples{prev_note}, "
        f"{len(dataset.features)} features",
    }


def _anomaly_rows(anomalies: Sequence[dict[str, Any]], ids: dict[Any, str]) -> list[dict[str, Any]]:
    rows = []
    for a in anomalies:
        feature = str(a.get("feature", ""))
        severity = str(a.get("severity") or DASH)
        rows.append(
            {
                "split": a.get("split") or DASH,
                "feature": feature,
                "target": ids.get((a.get("split"), feature)) or ids.get(feature),
                "kinds": [k.strip() for k in str(a.get("kind") or DASH).split(",") if k.strip()],
                "severity": severity,
                "description": a.get("description") or DASH,
                "fix": a.get("fix") or DASH,
                "level": "warn" if severity.lower() == "warning" else "bad",
            }
        )
    return rows


def _drift_rows(drift: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(drift, key=lambda d: (not d.get("exceeded"), str(d.get("feature"))))
    return [
        {
            "feature": d.get("feature", ""),
            "measure": d.get("measure", DASH),
            "value": f"{float(d['value']):.4f}",
            "threshold": f"{float(d['threshold']):.4f}",
            "exceeded": bool(d.get("exceeded")),
        }
        for d in ordered
    ]


# --- the report ---------------------------------------------------------------------------------


def render_validation_report(
    out_path: str | os.PathLike[str],
    *,
    title: str,
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    anomalies: Sequence[dict[str, Any]],
    drift: Sequence[dict[str, Any]] | None = None,
    previous_statistics: statistics_pb2.DatasetFeatureStatisticsList | None = None,
    run_info: dict[str, Any] | None = None,
    images: dict[str, Any] | None = None,
) -> str:
    """Write the data-validation report to ``out_path`` (atomically) and return the path written.

    Args:
        out_path: the ``.html`` file to write; its folder is created.
        title: page title (escaped).
        statistics: the span's statistics (:func:`load_statistics`), one section per dataset/split.
        anomalies: rows ``{feature, kind, description, fix, severity}`` (optional ``split``), e.g.
            from :func:`load_anomalies`; missing keys show as a dash.
        drift: rows ``{feature, measure, value, threshold, exceeded}`` (:func:`drift_from_anomalies`).
        previous_statistics: the previous span's statistics, overlaid on histograms and bar charts.
        run_info: extra facts for the header (pipeline, run id, data path...), shown as given.
        images: ExampleGen's image statistics per column (``components.image_checks.read_image_report``).

    Example:
        >>> render_validation_report(
        ...     "runs/ad_click/reports/validation.html",
        ...     title="ad_click data",
        ...     statistics=load_statistics(stats_uri),
        ...     anomalies=load_anomalies(anomalies_uri),
        ... )
    """
    anomalies = list(anomalies)
    alarms = sum(1 for d in drift or () if d.get("exceeded"))
    previous = {d.name: d for d in previous_statistics.datasets} if previous_statistics is not None else {}
    prev_list = list(previous_statistics.datasets) if previous_statistics is not None else []

    ids: dict[Any, str] = {}
    datasets = []
    for i, dataset in enumerate(statistics.datasets):
        prev = previous.get(dataset.name) or (prev_list[i] if i < len(prev_list) else None)
        # An anomaly without a split, or statistics without split names, cannot be told apart: flag them.
        flagged = {
            str(a.get("feature"))
            for a in anomalies
            if not a.get("split") or not dataset.name or a.get("split") == dataset.name
        }
        datasets.append(_dataset_view(i, dataset, prev, flagged, ids))

    def counts(items: Sequence[Any]) -> str:
        return ", ".join(f"{d.name} {d.num_examples:,}" if d.name else f"{d.num_examples:,}" for d in items)

    html = render(
        "validation.html.j2",
        kind="validation-report",
        title=title,
        run_info=run_info or {},
        anomaly_count=len(anomalies),
        alarms=alarms,
        drift_measured=drift is not None,
        verdict="data needs attention" if anomalies or alarms else "data matches the schema",
        examples=counts(statistics.datasets) or "none",
        previous_examples=counts(prev_list),
        anomalies=_anomaly_rows(anomalies, ids),
        with_split=any(a.get("split") for a in anomalies),
        drift=None if drift is None else _drift_rows(drift),
        has_previous=previous_statistics is not None,
        datasets=datasets,
        top_values_shown=TOP_VALUES_SHOWN,
        images=image_rows(images or {}),
    )
    return write_report(out_path, html)
