"""The offline HTML reports: content, escaping, no external references, atomic writes.

Fast tests build statistics and anomalies protos by hand (``tensorflow_metadata`` only,
no TensorFlow). Tests marked ``slow`` use real TFDV statistics and anomalies of
generated ad-click data and a real TFMA output folder (they import TensorFlow, ~20 s).
"""

from __future__ import annotations

import csv
import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from pipelines.results.reports import (
    _charts,
    _format,
    _plots,
    _render,
    anomalies_from_proto,
    drift_from_anomalies,
    load_anomalies,
    load_statistics,
    render_evaluation_report,
    render_validation_report,
    tfma_result,
    write,
)
from pipelines.results.reports import evaluation as evaluation_mod

REPO = Path(__file__).resolve().parents[2]
EVIL = '<script>alert("x")</script>'


# --- helpers ------------------------------------------------------------------------------------


class _Doc(HTMLParser):
    """Tags, attributes and the text of every table row, by table id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, list[str]] = {}
        self._tables: list[str | None] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._tables.append(dict(attrs).get("id"))
        elif tag == "tr" and self._tables:
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._tables.pop()
        elif tag == "tr" and self._row is not None and self._tables and self._tables[-1]:
            self.rows.setdefault(self._tables[-1], []).append(" ".join(" ".join(self._row).split()))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)


def parse(html: str) -> _Doc:
    doc = _Doc()
    doc.feed(html)
    return doc


def body_rows(doc: _Doc, table_id: str) -> list[str]:
    return doc.rows.get(table_id, [])[1:]  # the first row is the header


def assert_offline(html: str, *, whole_page: bool = True) -> None:
    """Nothing in the page can make the browser fetch anything."""
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I), "absolute URL in the report"
    assert not re.search(r"@import|url\s*\(", html, re.I)
    doc = parse(html)
    for tag, attrs in doc.tags:
        assert tag not in {
            "script",
            "img",
            "link",
            "iframe",
            "object",
            "embed",
            "image",
            "use",
            "video",
            "audio",
            "source",
            "base",
            "form",
        }, tag
        assert "src" not in attrs and "srcset" not in attrs and "xlink:href" not in attrs, (tag, attrs)
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)  # no event handlers
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), (tag, attrs)
    csp = [a for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert not whole_page or (csp and "default-src 'none'" in (csp[0]["content"] or ""))


def numeric_feature(ds: Any, name: str, values: list[float], *, missing: int = 0) -> None:
    f = ds.features.add()
    f.path.step.append(name)
    f.type = statistics_pb2.FeatureNameStatistics.FLOAT
    ns = f.num_stats
    ns.common_stats.num_non_missing = len(values)
    ns.common_stats.num_missing = missing
    ns.common_stats.tot_num_values = len(values)
    ns.mean = sum(values) / len(values)
    ns.min, ns.max = min(values), max(values)
    ns.median = sorted(values)[len(values) // 2]
    ns.num_zeros = sum(1 for v in values if v == 0)
    hist = ns.histograms.add()
    lo, hi = min(values), max(values)
    width = (hi - lo) / 4 or 1.0
    for i in range(4):
        b = hist.buckets.add()
        b.low_value, b.high_value = lo + i * width, lo + (i + 1) * width
        b.sample_count = sum(1 for v in values if b.low_value <= v < b.high_value or (i == 3 and v == hi))


def string_feature(ds: Any, name: str, counts: dict[str, int]) -> None:
    f = ds.features.add()
    f.path.step.append(name)
    f.type = statistics_pb2.FeatureNameStatistics.STRING
    ss = f.string_stats
    ss.common_stats.num_non_missing = sum(counts.values())
    ss.common_stats.tot_num_values = sum(counts.values())
    ss.unique = len(counts)
    ss.avg_length = sum(len(k) * v for k, v in counts.items()) / sum(counts.values())
    for value, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        tv = ss.top_values.add()
        tv.value, tv.frequency = value, count
        rb = ss.rank_histogram.buckets.add()
        rb.label, rb.sample_count = value, count


def make_stats(*, shift: float = 0.0, name: str = "") -> statistics_pb2.DatasetFeatureStatisticsList:
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    ds = stats.datasets.add()
    ds.name, ds.num_examples = name, 10
    numeric_feature(ds, "age", [20 + shift, 25, 31, 38, 44, 52, 0, 61, 33, 29])
    string_feature(ds, "country", {"Peru": 5, "Chile": 3, "Iceland": 2})
    string_feature(ds, EVIL, {EVIL: 6, "ok": 4})
    return stats


ANOMALIES = [
    {
        "feature": "age",
        "kind": "INT_TYPE_NOT_INT_STRING",
        "description": 'values such as "forty"',
        "fix": "fix the rows",
        "severity": "error",
    },
    {
        "feature": "clicked_on_ad",
        "kind": "INT_TYPE_BIG_INT",
        "description": "Unexpectedly large value: 7.",
        "fix": "widen int_domain",
        "severity": "error",
    },
    {
        "feature": EVIL,
        "kind": "SCHEMA_NEW_COLUMN",
        "description": f"new column {EVIL}",
        "fix": "drop it",
        "severity": "warning",
    },
]
DRIFT = [
    {"feature": "country", "measure": "L-infinity", "value": 0.31, "threshold": 0.1, "exceeded": True},
    {"feature": "age", "measure": "Jensen-Shannon", "value": 0.02, "threshold": 0.1, "exceeded": False},
]


@pytest.fixture
def validation_html(tmp_path: Path) -> str:
    out = render_validation_report(
        tmp_path / "validation.html",
        title=f"data {EVIL}",
        statistics=make_stats(),
        anomalies=ANOMALIES,
        drift=DRIFT,
        previous_statistics=make_stats(shift=7),
        run_info={"pipeline": "ad_click", "note": EVIL},
    )
    assert out == str(tmp_path / "validation.html")
    return Path(out).read_text(encoding="utf-8")


# --- validation report ----------------------------------------------------------------------------


def test_anomaly_table_has_one_row_per_anomaly(validation_html: str) -> None:
    rows = body_rows(parse(validation_html), "anomalies")
    assert len(rows) == 3
    assert rows[0].startswith("age INT_TYPE_NOT_INT_STRING error") and '"forty"' in rows[0]
    assert rows[1] == "clicked_on_ad INT_TYPE_BIG_INT error Unexpectedly large value: 7. widen int_domain"
    assert rows[2].startswith(EVIL)  # the parser unescapes: the name arrives as text, intact
    assert "3 anomalies" in validation_html and "data needs attention" in validation_html


def test_no_anomalies_gets_an_explicit_row(tmp_path: Path) -> None:
    html = Path(
        render_validation_report(tmp_path / "r.html", title="t", statistics=make_stats(), anomalies=[])
    ).read_text()
    assert body_rows(parse(html), "anomalies") == ["No anomalies: every feature matches the schema."]
    assert "0 anomalies" in html and "drift" not in html.split("</header>")[0].lower()


def test_user_data_is_escaped_everywhere(validation_html: str) -> None:
    assert "<script" not in validation_html.lower() and 'alert("x")' not in validation_html
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"  # Jinja's autoescape (MarkupSafe)
    # title, header, run_info, anomaly row, its description, the feature table, the SVG bar label and tooltip
    assert validation_html.count(escaped) >= 7


@pytest.mark.parametrize("name", ["validation", "evaluation"])
def test_reports_reference_nothing_external(name: str, validation_html: str, evaluation_html: str) -> None:
    assert_offline(validation_html if name == "validation" else evaluation_html)


def test_svg_has_no_namespace_url(validation_html: str) -> None:
    assert validation_html.count("<svg") >= 3 and "xmlns" not in validation_html


def test_drift_table_and_status(validation_html: str) -> None:
    doc = parse(validation_html)
    assert body_rows(doc, "drift") == ["country L-infinity 0.3100 0.1000 alarm", "age Jensen-Shannon 0.0200 0.1000 ok"]
    assert "1 drift alarm" in validation_html


def test_drift_absent_or_unconfigured(tmp_path: Path) -> None:
    none = Path(
        render_validation_report(tmp_path / "a.html", title="t", statistics=make_stats(), anomalies=[])
    ).read_text()
    assert "No previous span given" in none
    empty = Path(
        render_validation_report(
            tmp_path / "b.html",
            title="t",
            statistics=make_stats(),
            anomalies=[],
            drift=[],
            previous_statistics=make_stats(),
        )
    ).read_text()
    assert body_rows(parse(empty), "drift") == [
        "No drift measured: set validation.drift.enabled: true in the YAML "
        "(bounds: validation.drift.numeric_threshold, categorical_threshold, features)."
    ]
    unmeasured = Path(
        render_validation_report(tmp_path / "c.html", title="t", statistics=make_stats(), anomalies=[], drift=[])
    ).read_text()
    assert body_rows(parse(unmeasured), "drift") == [
        "Not measured: no earlier data passed validation (first run, or the same data as then)."
    ]


def test_feature_statistics_tables(validation_html: str) -> None:
    doc = parse(validation_html)
    (age,) = body_rows(doc, "numeric-0")
    # count, missing, mean, std (unset), min, median, max, zeros
    assert age.startswith("age anomaly 10 0.0% 33.3 0 0 33 61 10.0%"), age
    country, evil = body_rows(doc, "categorical-0")
    assert country.startswith("country 10 0.0% 3 ") and "Peru" in country
    assert evil.startswith(f"{EVIL} anomaly 10")
    assert validation_html.count('class="prev"') >= 3  # the previous span is overlaid
    assert 'href="#f-0-0"' in validation_html  # the anomaly links to its feature's statistics


def test_image_statistics_table_only_with_image_features(tmp_path: Path) -> None:
    from components.image_files import add_row, empty_stats, finish_stats

    stats = empty_stats()
    for path, reason, width, height in [("a.png", "", 96, 48), ("b.png", "", 120, 48), ("c.png", "missing", 0, 0)]:
        add_row(stats, path, reason, width, height)
    html = Path(
        render_validation_report(
            tmp_path / "i.html",
            title="t",
            statistics=make_stats(),
            anomalies=[],
            images={"image_path": finish_stats(stats)},
        )
    ).read_text()
    assert body_rows(parse(html), "images") == ["image_path 3 1 0 66.67% 96 to 120 48"]
    plain = Path(render_validation_report(tmp_path / "p.html", title="t", statistics=make_stats(), anomalies=[]))
    assert 'id="images"' not in plain.read_text()


def test_missing_keys_show_a_dash(tmp_path: Path) -> None:
    html = Path(
        render_validation_report(
            tmp_path / "r.html", title="t", statistics=make_stats(), anomalies=[{"feature": "age"}]
        )
    ).read_text()
    assert body_rows(parse(html), "anomalies") == ["age \u2014 \u2014 \u2014 \u2014"]


# --- reading TFX artifacts ----------------------------------------------------------------------


def test_load_statistics_names_datasets_by_split(tmp_path: Path) -> None:
    for split in ("train", "eval"):
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "FeatureStats.pb").write_bytes(make_stats().SerializeToString())
    assert [d.name for d in load_statistics(tmp_path).datasets] == ["train", "eval"]  # train first
    assert [d.name for d in load_statistics(tmp_path / "Split-train").datasets] == ["train"]
    assert [d.name for d in load_statistics(tmp_path / "Split-eval" / "FeatureStats.pb").datasets] == ["eval"]
    assert load_statistics(tmp_path / "Split-eval" / "FeatureStats.pb").datasets[0].num_examples == 10


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p / "nope.pb", "no such file"),
        (lambda p: p, "no FeatureStats.pb here or in its Split-"),
    ],
)
def test_load_statistics_errors(tmp_path: Path, make: Any, match: str) -> None:
    with pytest.raises(FileNotFoundError, match=match):
        load_statistics(make(tmp_path))


def tfdv_like_anomalies() -> anomalies_pb2.Anomalies:
    """What tfdv.validate_statistics returns for a label of 7 and 'forty' in age (see the slow test)."""
    a = anomalies_pb2.Anomalies()
    age = a.anomaly_info["age"]
    age.description = "Expected data of type: INT but got STRING String values that were not ints were found."
    age.severity = anomalies_pb2.AnomalyInfo.ERROR
    age.reason.add(type=anomalies_pb2.AnomalyInfo.UNEXPECTED_DATA_TYPE)
    age.reason.add(type=anomalies_pb2.AnomalyInfo.INT_TYPE_NOT_INT_STRING)
    label = a.anomaly_info["clicked_on_ad"]
    label.description, label.severity = "Unexpectedly large value: 7.", anomalies_pb2.AnomalyInfo.ERROR
    label.reason.add(type=anomalies_pb2.AnomalyInfo.INT_TYPE_BIG_INT)
    drift = a.drift_skew_info.add()
    drift.path.step.append("country")
    drift.drift_measurements.add(type=anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY, value=0.2, threshold=0.01)
    return a


def test_anomalies_from_proto_says_what_to_fix() -> None:
    """The report's rows are the validation gate's findings (one wording on console, JSON and HTML)."""
    age, label = anomalies_from_proto(tfdv_like_anomalies(), split="train")
    assert age["kind"] == "UNEXPECTED_DATA_TYPE,INT_TYPE_NOT_INT_STRING" and age["severity"] == "ERROR"
    assert "'age' holds values of the wrong type" in age["fix"]
    assert {k: label[k] for k in ("feature", "kind", "split", "severity", "description")} == {
        "feature": "clicked_on_ad",
        "kind": "INT_TYPE_BIG_INT",
        "split": "train",
        "severity": "ERROR",
        "description": "Unexpectedly large value: 7.",
    }
    assert "widen int_domain/float_domain min/max of feature 'clicked_on_ad'" in label["fix"]


def test_load_anomalies_from_an_artifact_folder(tmp_path: Path) -> None:
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / "SchemaDiff.pb").write_bytes(tfdv_like_anomalies().SerializeToString())
    rows = load_anomalies(tmp_path)
    assert [(r["split"], r["feature"]) for r in rows] == [("eval", "age"), ("eval", "clicked_on_ad")]
    assert rows == load_anomalies(tmp_path / "Split-eval" / "SchemaDiff.pb")


def test_drift_from_anomalies() -> None:
    assert drift_from_anomalies(tfdv_like_anomalies()) == [
        {
            "feature": "country",
            "measure": "L-infinity",
            "value": pytest.approx(0.2),
            "threshold": pytest.approx(0.01),
            "exceeded": True,
        }
    ]


# --- evaluation report ----------------------------------------------------------------------------

THRESHOLDS = {
    "auc": {"lower_bound": 0.9, "change": {"direction": "higher_is_better", "absolute": -0.01}},
    "accuracy": {"lower_bound": 0.5},
}


@pytest.fixture
def evaluation_html(tmp_path: Path) -> str:
    out = render_evaluation_report(
        tmp_path / "evaluation.html",
        title=f"model {EVIL}",
        metrics={"auc": 0.875, "binary_accuracy": 0.8, "example_count": 4004.0},
        slices={"male=0": {"auc": 0.88, "example_count": 2102.0}, f"country={EVIL}": {"auc": 0.7}},
        baseline_diff={"diff": {"auc_diff": 0.006, "example_count_diff": 0.0}},  # RunSummary.baseline's shape
        thresholds=THRESHOLDS,
        failed_thresholds=["auc: 0.875 is below the lower bound 0.9"],
        blessed=False,
        run_info={"run": "r1"},
    )
    return Path(out).read_text(encoding="utf-8")


def test_evaluation_tables(evaluation_html: str) -> None:
    doc = parse(evaluation_html)
    assert body_rows(doc, "metrics") == ["example_count 4,004", "auc 0.8750", "binary_accuracy 0.8000"]
    assert body_rows(doc, "baseline") == ["example_count 4,004 4,004 +0 +0.00%", "auc 0.8750 0.8690 +0.0060 +0.69%"]
    assert body_rows(doc, "slices") == [f"country={EVIL} \u2014 0.7000", "male=0 2,102 0.8800"]
    assert body_rows(doc, "thresholds") == [
        "auc 0.9000 \u2014 absolute -0.01 (higher is better) 0.8750 failed",
        "accuracy 0.5000 \u2014 \u2014 0.8000 passed",
    ]  # config name 'accuracy' is TFMA's binary_accuracy
    assert "not blessed" in evaluation_html and "1 failed threshold" in evaluation_html
    assert "auc: 0.875 is below the lower bound 0.9" in evaluation_html
    assert "<script" not in evaluation_html.lower()


def test_evaluation_unknowns_are_said_plainly(tmp_path: Path) -> None:
    html = Path(
        render_evaluation_report(tmp_path / "e.html", title="t", metrics={"auc": 0.8}, thresholds=THRESHOLDS)
    ).read_text()
    assert "blessing unknown" in html and "No baseline to compare with" in html
    assert [r.rsplit(" ", 2)[-2:] for r in body_rows(parse(html), "thresholds")] == [
        ["not", "checked"],
        ["not", "checked"],
    ]
    assert body_rows(parse(html), "slices") == ["No slices configured (evaluation.slices)."]


def test_evaluation_accepts_the_config_thresholds(tmp_path: Path) -> None:
    from pipelines.config import load_config

    data = tmp_path / "data"
    data.mkdir()
    (data / "part.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    config = load_config(str(REPO / "configs" / "ad_click.yaml"), [f"data.source={data}"])
    html = Path(
        render_evaluation_report(
            tmp_path / "e.html",
            title="t",
            metrics={"auc": 0.8},
            failed_thresholds=[],
            thresholds=config.evaluation.thresholds,
            blessed=True,
        )
    ).read_text()
    (row,) = body_rows(parse(html), "thresholds")
    assert row.startswith("auc ") and "absolute -0.01 (higher is better)" in row and row.endswith("passed")


def task_config(tmp_path: Path, task: str, *overrides: str) -> Any:
    """The ad_click config turned into a ``task`` pipeline (evaluation defaults of that task unless overridden)."""
    from pipelines.config import load_config

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "part.csv").write_text((REPO / "tests" / "unit" / "ad_click_header.csv").read_text())
    labels = {"multiclass": ["label.classes=[a, b, c]"], "regression": []}[task]
    return load_config(
        str(REPO / "configs" / "ad_click.yaml"),
        [
            f"data.source={data}",
            "schema.path=null",
            f"pipeline.root={tmp_path / 'root'}",
            f"label.task={task}",
            *labels,
            "evaluation.metrics=[]",
            "evaluation.slices=[]",
            "evaluation.thresholds=null",
            *overrides,
        ],
    )


def test_multiclass_metric_rows_and_thresholds(tmp_path: Path) -> None:
    """Multiclass: TFMA's names (Keras' sparse_categorical_*, per-class precision/recall) in row order, and the
    config's thresholds (accuracy, log_loss) found under them with their values and verdicts."""
    config = task_config(
        tmp_path, "multiclass", "evaluation.thresholds={accuracy: {lower_bound: 0.9}, log_loss: {upper_bound: 0.7}}"
    )
    thresholds = write.evaluation_thresholds(config)
    assert list(thresholds) == ["sparse_categorical_accuracy", "sparse_categorical_crossentropy"]
    metrics = {
        "sparse_categorical_crossentropy": 0.52,
        "recall[classId:1]": 0.75,
        "precision[classId:10]": 0.5,
        "precision[classId:2]": 0.7,
        "example_count": 300.0,
        "sparse_categorical_accuracy": 0.81,
        "recall[classId:0]": 0.9,
    }
    html = Path(
        render_evaluation_report(
            tmp_path / "e.html",
            title="t",
            metrics=metrics,
            thresholds=thresholds,
            task="multiclass",
            baseline_diff={"sparse_categorical_accuracy": 0.02},
            failed_thresholds=["sparse_categorical_accuracy (overall) = 0.8100 fails lower bound 0.9"],
        )
    ).read_text()
    doc = parse(html)
    assert body_rows(doc, "metrics") == [
        "example_count 300",
        "sparse_categorical_accuracy 0.8100",
        "precision[classId:2] 0.7000",
        "precision[classId:10] 0.5000",
        "recall[classId:0] 0.9000",
        "recall[classId:1] 0.7500",
        "sparse_categorical_crossentropy 0.5200",
    ]
    assert body_rows(doc, "thresholds") == [
        "sparse_categorical_accuracy 0.9000 \u2014 \u2014 0.8100 failed",
        "sparse_categorical_crossentropy \u2014 0.7000 \u2014 0.5200 passed",
    ]
    assert body_rows(doc, "baseline") == ["sparse_categorical_accuracy 0.8100 0.7900 +0.0200 +2.53%"]
    # Keyed by the config's names, the task decides which TFMA metric each row reads.
    direct = Path(
        render_evaluation_report(
            tmp_path / "d.html",
            title="t",
            metrics=metrics,
            thresholds={"accuracy": {"lower_bound": 0.5}},
            task="multiclass",
            failed_thresholds=[],
        )
    ).read_text()
    assert body_rows(parse(direct), "thresholds") == ["accuracy 0.5000 \u2014 \u2014 0.8100 passed"]


def test_regression_metric_rows_and_thresholds(tmp_path: Path) -> None:
    """Regression: the default bars (r2 > 0, mae at most 2% worse than the baseline) under r_squared and
    mean_absolute_error; a failed change threshold marks its row."""
    config = task_config(tmp_path, "regression")
    thresholds = write.evaluation_thresholds(config)
    assert list(thresholds) == ["r_squared", "mean_absolute_error"]
    metrics = {"r_squared": 0.61, "root_mean_squared_error": 1.5, "example_count": 300.0, "mean_absolute_error": 1.2}
    html = Path(
        render_evaluation_report(
            tmp_path / "e.html",
            title="t",
            metrics=metrics,
            thresholds=thresholds,
            task="regression",
            blessed=False,
            baseline_diff={"diff": {"mean_absolute_error_diff": 0.05, "r_squared_diff": -0.02}},
            failed_thresholds=["mean_absolute_error (overall) = 1.2000 fails relative change vs baseline +0.02"],
        )
    ).read_text()
    doc = parse(html)
    assert body_rows(doc, "metrics") == [
        "example_count 300",
        "mean_absolute_error 1.2000",
        "root_mean_squared_error 1.5000",
        "r_squared 0.6100",
    ]
    assert body_rows(doc, "thresholds") == [
        "r_squared 0.0000 \u2014 \u2014 0.6100 passed",
        "mean_absolute_error \u2014 \u2014 relative +0.02 (lower is better) 1.2000 failed",
    ]
    assert body_rows(doc, "baseline") == [
        "mean_absolute_error 1.2000 1.1500 +0.0500 +4.35%",
        "r_squared 0.6100 0.6300 -0.0200 -3.17%",
    ]
    assert "not blessed" in html and "1 failed threshold" in html


def tfma_like_plots() -> dict[str, Any]:
    """The shape ``tfma.load_eval_result(...).plots`` gives for CalibrationPlot and ConfusionMatrixPlot."""
    matrices = [
        {
            "threshold": t / 10,
            "falsePositiveRate": max(0.0, 1 - t / 10 - 0.2) if t < 8 else 0.0,
            "recall": 1 - (t / 10) ** 3,
            "precision": 0.5 + t / 25,
        }
        for t in range(11)
    ]
    matrices[-1].pop("falsePositiveRate")  # proto-to-JSON drops zeros
    buckets = [{"lowerThresholdInclusive": "-Infinity", "upperThresholdExclusive": 0.0}]
    buckets += [
        {
            "lowerThresholdInclusive": i / 100,
            "upperThresholdExclusive": (i + 1) / 100,
            "numWeightedExamples": 10.0,
            "totalWeightedLabel": i / 10,
            "totalWeightedRefinedPrediction": i / 10 + 0.05,
        }
        for i in range(100)
    ]
    buckets.append(
        {"lowerThresholdInclusive": 1.0, "upperThresholdExclusive": "Infinity", "numWeightedExamples": {"value": 0.0}}
    )
    return {
        "": {
            "": {
                "confusionMatrixAtThresholds": {"matrices": matrices},
                "calibrationHistogramBuckets": {"buckets": buckets},
            }
        }
    }


def test_plots_are_inline_svg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tfma_result._plot_data(tfma_like_plots())
    monkeypatch.setattr(
        evaluation_mod,
        "load_evaluation",
        lambda uri: {"plots": {"overall": data, "male=1": data}, "baseline_plots": {"overall": data}},
    )
    page = Path(
        render_evaluation_report(tmp_path / "e.html", title="t", eval_result_uri="evaluation/26", metrics={"auc": 0.81})
    ).read_text()
    html = page.split('id="plots-section"', 1)[1]
    assert html.count("<svg") == 6 and "ROC, overall (AUC 0.8100)" in html
    assert html.count('class="line baseline"') == 3  # baseline overlaid on the overall plots only
    assert "<details><summary>male=1</summary>" in html
    assert_offline(page)
    points = _plots._reliability(data["calibrationHistogramBuckets"]["buckets"])
    assert len(points) == 10 and points[0] == pytest.approx((0.05, 0.045))


# --- writing --------------------------------------------------------------------------------------


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "sub" / "report.html"
    assert _render.write_report(target, "old") == str(target)
    assert target.read_text() == "old" and oct(target.stat().st_mode & 0o777) == "0o644"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        render_validation_report(target, title="t", statistics=make_stats(), anomalies=[])
    assert target.read_text() == "old"  # the old report survives a failed write
    assert os.listdir(target.parent) == ["report.html"]  # and no temporary file is left behind


def test_formatting_escaping_and_charts() -> None:
    env = _render.environment()
    assert env.from_string("<b title='{{ v }}'>{{ v }}</b>").render(v="<b a='1'>") == (
        "<b title='&lt;b a=&#39;1&#39;&gt;'>&lt;b a=&#39;1&#39;&gt;</b>"
    )  # quotes too: safe in attributes
    assert _format.fmt_num(1234567.0) == "1,234,567" and _format.fmt_num(float("nan")) == "NaN"
    assert _format.fmt_pct(1, 3) == "33.3%" and _format.fmt_pct(1, 0) == "\u2014"
    charts = env.get_template("_charts.svg.j2").module
    assert _charts.histogram([]) is None and str(charts.histogram(None)) == '<span class="muted">\u2014</span>'
    constant = str(charts.histogram(_charts.histogram([(5.0, 5.0, 10.0)])))  # a constant feature still draws a bar
    assert constant.count("<rect") == 1 and constant.startswith('<svg class="chart hist"')


def test_nothing_is_marked_safe() -> None:
    """All markup is in the templates and autoescaped: no ``|safe``, ``Markup`` or autoescape switched off."""
    package = REPO / "pipelines" / "results" / "reports"
    files = sorted(package.rglob("*.py")) + sorted((package / "templates").iterdir())
    assert {f.name for f in files} >= {"base.html.j2", "validation.html.j2", "evaluation.html.j2", "_charts.svg.j2"}
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|Markup|markupsafe|autoescape\s*(=\s*False|false)", text), file
    assert _render.environment().autoescape is True


# --- real TFDV and TFMA output --------------------------------------------------------------------


def _break(src: str, dst: Path) -> Path:
    with open(src, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[1][header.index("clicked_on_ad")] = "7"  # outside int_domain {0, 1}
    rows[2][header.index("age")] = "forty"  # text in an INT column
    for row in rows[3:43]:  # frequent enough to be among the top values shown
        row[header.index("country")] = EVIL
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dst


@pytest.fixture(scope="module")
def tfdv_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import tensorflow_data_validation as tfdv

    from pipelines.data.generators import write_ad_click

    tmp = tmp_path_factory.mktemp("tfdv")
    good = write_ad_click(str(tmp / "good"), 500, seed=3)[0]
    broken = _break(write_ad_click(str(tmp / "next"), 500, seed=4)[0], tmp / "broken" / "ad_click.csv")
    previous = tfdv.generate_statistics_from_csv(good)
    stats = tfdv.generate_statistics_from_csv(str(broken))
    schema = tfdv.load_schema_text(str(REPO / "schemas" / "ad_click" / "schema.pbtxt"))
    tfdv.get_feature(schema, "city").drift_comparator.infinity_norm.threshold = 0.001  # new cities: an alarm
    anomalies = tfdv.validate_statistics(stats, schema, previous_statistics=previous)
    # As StatisticsGen writes it: <artifact>/Split-train/FeatureStats.pb, binary.
    (tmp / "artifact" / "Split-train").mkdir(parents=True)
    (tmp / "artifact" / "Split-train" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return {"tmp": tmp, "stats": stats, "previous": previous, "anomalies": anomalies}


@pytest.mark.slow
def test_real_tfdv_validation_report(tfdv_run: dict[str, Any]) -> None:
    rows = anomalies_from_proto(tfdv_run["anomalies"], split="train")
    drift = drift_from_anomalies(tfdv_run["anomalies"])
    assert {r["feature"] for r in rows} >= {"age", "clicked_on_ad"}
    assert any(d["feature"] == "city" and d["exceeded"] for d in drift)
    stats = load_statistics(tfdv_run["tmp"] / "artifact")
    out = render_validation_report(
        tfdv_run["tmp"] / "report.html",
        title="ad_click",
        statistics=stats,
        anomalies=rows,
        drift=drift,
        previous_statistics=tfdv_run["previous"],
    )
    html = Path(out).read_text()
    doc = parse(html)
    anomaly_rows = body_rows(doc, "anomalies")
    assert len(anomaly_rows) == len(rows)
    assert any(
        r.startswith("train clicked_on_ad INT_TYPE_BIG_INT ERROR Unexpectedly large value: 7.") for r in anomaly_rows
    ), anomaly_rows
    assert any(
        r.startswith("train age UNEXPECTED_DATA_TYPE INT_TYPE_NOT_INT_STRING ERROR") and "forty" in r
        for r in anomaly_rows
    ), anomaly_rows
    assert any(r.startswith("city L-infinity") and r.endswith("alarm") for r in body_rows(doc, "drift"))
    numeric = [r.split()[0] for r in body_rows(doc, "numeric-0")]
    assert {"daily_time_spent_on_site", "area_income", "daily_internet_usage", "clicked_on_ad"} <= set(numeric)
    assert "country" in [r.split()[0] for r in body_rows(doc, "categorical-0")]
    assert "<script" not in html.lower() and "&lt;script&gt;" in html  # the hostile country value
    assert_offline(html)


@pytest.fixture(scope="module")
def tfma_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real TFMA output folder: a candidate and a baseline scored on the same labels (no model needed)."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_model_analysis as tfma
    from google.protobuf import text_format

    tmp = tmp_path_factory.mktemp("tfma")
    rng = np.random.default_rng(0)
    n = 300
    label = rng.integers(0, 2, n)
    good = np.clip(0.5 + (label - 0.5) * 0.4 + rng.normal(0, 0.25, n), 0.01, 0.99)
    weak = np.clip(0.5 + (label - 0.5) * 0.1 + rng.normal(0, 0.3, n), 0.01, 0.99)
    data = str(tmp / "data.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for i in range(n):
            writer.write(
                tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            "label": tf.train.Feature(float_list=tf.train.FloatList(value=[float(label[i])])),
                            "p": tf.train.Feature(float_list=tf.train.FloatList(value=[float(good[i])])),
                            "b": tf.train.Feature(float_list=tf.train.FloatList(value=[float(weak[i])])),
                            "male": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(i % 2)])),
                        }
                    )
                ).SerializeToString()
            )
    config = text_format.Parse(
        """
        model_specs { name: "candidate" label_key: "label" prediction_key: "p" }
        model_specs { name: "baseline" label_key: "label" prediction_key: "b" is_baseline: true }
        slicing_specs {} slicing_specs { feature_keys: "male" }
        metrics_specs {
          metrics { class_name: "AUC" threshold { value_threshold { lower_bound { value: 0.99 } } } }
          metrics { class_name: "BinaryAccuracy" }
          metrics { class_name: "ExampleCount" }
          metrics { class_name: "CalibrationPlot" }
          metrics { class_name: "ConfusionMatrixPlot" }
        }""",
        tfma.EvalConfig(),
    )
    out = str(tmp / "evaluation")
    tfma.run_model_analysis(eval_config=config, data_location=data, output_path=out)
    return out


@pytest.mark.slow
def test_real_tfma_evaluation_report(tfma_output: str, tmp_path: Path) -> None:
    out = render_evaluation_report(tmp_path / "evaluation.html", title="model", eval_result_uri=tfma_output)
    html = Path(out).read_text()
    doc = parse(html)
    metrics = dict(r.split(" ", 1) for r in body_rows(doc, "metrics"))
    assert metrics["example_count"] == "300" and 0.7 < float(metrics["auc"]) < 0.99
    assert [r.split()[0] for r in body_rows(doc, "baseline")] == ["example_count", "auc", "binary_accuracy"]
    assert [r.split()[0] for r in body_rows(doc, "slices")] == ["male=0", "male=1"]
    (threshold,) = body_rows(doc, "thresholds")
    assert threshold.startswith("auc 0.9900") and threshold.endswith("failed")
    assert "fails validation" in html and "3 failed thresholds" in html  # overall and both slices
    assert html.count("<svg") >= 9 and 'class="line baseline"' in html  # ROC, PR, calibration per slice
    assert_offline(html)


def _examples(features: dict[str, Any]) -> list[bytes]:
    """tf.train.Examples from columns: ints -> int64_list, floats -> float_list, 2-D -> one list per row."""
    import numpy as np
    import tensorflow as tf

    def feature(value: Any) -> Any:
        values = np.atleast_1d(value)
        if values.dtype.kind == "i":
            return tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
        return tf.train.Feature(float_list=tf.train.FloatList(value=values.astype(float).tolist()))

    n = len(next(iter(features.values())))
    return [
        tf.train.Example(
            features=tf.train.Features(feature={k: feature(v[i]) for k, v in features.items()})
        ).SerializeToString()
        for i in range(n)
    ]


def run_task_evaluation(tmp: Path, task: str, thresholds: str, *overrides: str) -> tuple[Any, str, dict[str, float]]:
    """A real TFMA run of the EvalConfig the pipeline builds for ``task`` (its metrics, our thresholds),
    on scored examples instead of a model: (config, output folder, what the candidate's metrics must be)."""
    import numpy as np
    import tensorflow as tf
    import tensorflow_model_analysis as tfma

    from pipelines.build import eval_config

    config = task_config(tmp, task, f"evaluation.thresholds={thresholds}", *overrides)
    ec = eval_config(config)
    del ec.model_specs[:]  # scored examples, no SavedModel: the candidate's scores in "p", the baseline's in "b"
    ec.model_specs.add(name="candidate", label_key="label", prediction_key="p")
    ec.model_specs.add(name="baseline", label_key="label", prediction_key="b", is_baseline=True)
    rng = np.random.default_rng(0)
    n = 300
    if task == "multiclass":
        label = rng.integers(0, 3, n)

        def scores(strength: float) -> Any:
            logits = rng.normal(0, 1, (n, 3))
            logits[np.arange(n), label] += strength
            return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

        p, b = scores(2.0), scores(0.5)
        hit = p > 0.5  # per class, one-vs-rest at TFMA's default threshold
        expected = {"sparse_categorical_accuracy": float((p.argmax(axis=1) == label).mean())}
        for c in range(3):
            expected[f"precision[classId:{c}]"] = float(hit[label == c, c].sum() / hit[:, c].sum())
            expected[f"recall[classId:{c}]"] = float(hit[label == c, c].mean())
    else:
        label = rng.normal(10, 2, n)
        p, b = label + rng.normal(0, 0.5, n), label + rng.normal(0.5, 1.0, n)
        expected = {
            "mean_absolute_error": float(np.abs(label - p).mean()),
            "root_mean_squared_error": float(np.sqrt(((label - p) ** 2).mean())),
            "r_squared": float(1 - ((label - p) ** 2).sum() / ((label - label.mean()) ** 2).sum()),
        }
    data = str(tmp / "data.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for example in _examples({"label": label, "p": p, "b": b}):
            writer.write(example)
    out = str(tmp / "evaluation")
    tfma.run_model_analysis(eval_config=ec, data_location=data, output_path=out)
    return config, out, {"example_count": float(n), **expected}


def _write_evaluation_report(config: Any, eval_uri: str) -> _Doc:
    from types import SimpleNamespace

    summary = SimpleNamespace(
        run_id="run:1",
        status="succeeded",
        artifacts={"evaluation": eval_uri},
        anomalies=[],
        drift=None,
        blessed=None,
        tuning=None,
    )
    written = write.write_reports(config, summary)
    assert written == {"evaluation": str(Path(config.pipeline.root) / "reports" / "evaluation-run1.html")}
    html = Path(written["evaluation"]).read_text()
    assert_offline(html)
    assert "fails validation" in html and "1 failed threshold" in html and "compared with the baseline" in html
    return parse(html)


def _shown(value: float) -> str:
    return _format.fmt_metric(value)


@pytest.mark.slow
def test_real_tfma_multiclass_report(tmp_path: Path) -> None:
    config, out, expected = run_task_evaluation(
        tmp_path, "multiclass", "{accuracy: {lower_bound: 0.99}, log_loss: {upper_bound: 5}}"
    )
    doc = _write_evaluation_report(config, out)
    rows = dict(r.split(" ", 1) for r in body_rows(doc, "metrics"))
    assert list(rows) == [
        "example_count",
        "sparse_categorical_accuracy",
        *[f"{m}[classId:{c}]" for m in ("precision", "recall") for c in range(3)],
        "sparse_categorical_crossentropy",
    ]
    assert {k: rows[k] for k in expected} == {k: _shown(v) for k, v in expected.items()}
    accuracy, log_loss = body_rows(doc, "thresholds")
    assert accuracy == f"sparse_categorical_accuracy 0.9900 \u2014 \u2014 {rows['sparse_categorical_accuracy']} failed"
    assert log_loss.startswith("sparse_categorical_crossentropy \u2014 5 \u2014 ") and log_loss.endswith(" passed")
    assert float(log_loss.split()[-2]) < 5
    assert [r.split()[0] for r in body_rows(doc, "baseline")] == list(rows)


@pytest.mark.slow
def test_real_tfma_regression_report(tmp_path: Path) -> None:
    # TFMA refuses change thresholds without a model to compare (first run); the fast test covers them.
    config, out, expected = run_task_evaluation(
        tmp_path, "regression", "{r2: {lower_bound: 0}, mae: {upper_bound: 1}, rmse: {upper_bound: 0.1}}"
    )
    doc = _write_evaluation_report(config, out)
    shown = {k: _shown(v) for k, v in expected.items()}
    assert body_rows(doc, "metrics") == [
        f"{k} {shown[k]}" for k in ("example_count", "mean_absolute_error", "root_mean_squared_error", "r_squared")
    ]
    assert body_rows(doc, "thresholds") == [
        f"r_squared 0.0000 \u2014 \u2014 {shown['r_squared']} passed",
        f"mean_absolute_error \u2014 1 \u2014 {shown['mean_absolute_error']} passed",
        f"root_mean_squared_error \u2014 0.1000 \u2014 {shown['root_mean_squared_error']} failed",
    ]
    assert [r.split()[0] for r in body_rows(doc, "baseline")] == [
        "example_count",
        "mean_absolute_error",
        "root_mean_squared_error",
        "r_squared",
    ]


def regression_schema(tmp: Path, domain: str = "float_domain { min: 0 max: 20 }") -> Path:
    """The ad_click schema with its label turned into a number in ``domain`` (the regression plots' range)."""
    text = (REPO / "schemas" / "ad_click" / "schema.pbtxt").read_text()
    label = 'name: "clicked_on_ad"\n  type: INT\n  int_domain { min: 0 max: 1 is_categorical: true }'
    assert label in text
    path = tmp / "schema.pbtxt"
    path.write_text(text.replace(label, f'name: "clicked_on_ad"\n  type: FLOAT\n  {domain}'))
    return path


@pytest.mark.slow
def test_real_tfma_regression_plots(tmp_path: Path) -> None:
    """Issue 20, point 6: predicted against actual and residuals, from TFMA's CalibrationPlot over the label's range."""
    import numpy as np

    schema = regression_schema(tmp_path)
    config, out, _ = run_task_evaluation(tmp_path, "regression", "{rmse: {upper_bound: 0.1}}", f"schema.path={schema}")
    plots = tfma_result.load_evaluation(out)["plots"]
    buckets = plots["overall"]["calibrationHistogramBuckets"]["buckets"]
    points = _plots.regression_points(buckets)
    # Labels ~ N(10, 2), predictions = label + N(0, 0.5): the mean label follows the mean prediction.
    assert len(points) >= 8 and sum(n for _, _, n in points) == 300
    assert all(abs(actual - predicted) < 1.5 for predicted, actual, n in points if n >= 20)
    assert np.corrcoef([p for p, _, _ in points], [a for _, a, _ in points])[0, 1] > 0.95
    _write_evaluation_report(config, out)
    html = Path(config.pipeline.root, "reports", "evaluation-run1.html").read_text()
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert captions == ["predicted against actual, overall", "residuals, overall"], captions
    assert 'aria-label="predicted against actual, overall"' in html and 'aria-label="residuals, overall"' in html
    assert html.count('class="line candidate"') == 2 and html.count('class="line baseline"') == 2
    assert "EvalConfig" not in html and "CalibrationPlot" not in html


def test_missing_counts_empty_value_lists(tmp_path: Path) -> None:
    """Issue 20, point 3: what TFDV reports for a CSV column with 4 empty cells in 100 (see the slow test):
    ExampleGen writes them as empty value lists, so num_missing is 0 and tot_num_values is 96."""
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    ds = stats.datasets.add()
    ds.num_examples = 100
    numeric_feature(ds, "x", [float(i) for i in range(96)])
    string_feature(ds, "c", {"a": 50, "b": 46})
    for f in ds.features:
        cs = f.num_stats.common_stats if f.HasField("num_stats") else f.string_stats.common_stats
        cs.num_non_missing, cs.max_num_values = 100, 1
    out = render_validation_report(tmp_path / "r.html", title="t", statistics=stats, anomalies=[])
    doc = parse(Path(out).read_text())
    assert body_rows(doc, "numeric-0")[0].startswith("x 96 4.0% ")
    assert body_rows(doc, "categorical-0")[0].startswith("c 96 4.0% 2 ")


@pytest.mark.slow
def test_real_tfdv_missing_counts_empty_cells(tmp_path: Path) -> None:
    """Issue 20, point 3: a CSV with 4% empty cells (read as ExampleGen reads it) shows 4.0% missing."""
    from components.csv_statistics import csv_statistics

    lines = ["x,c,na,full"]
    for i in range(200):
        x = "" if i % 25 == 0 else f"{i * 0.5}"  # 8 of 200 empty
        c = "" if i % 25 == 7 else "ab"[i % 2]
        na = "NA" if i % 25 == 11 else str(i)  # a missing-value token, also an empty cell
        lines.append(f"{x},{c},{na},{i}")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    stats = csv_statistics([str(tmp_path / "d.csv")])
    out = render_validation_report(tmp_path / "r.html", title="t", statistics=stats, anomalies=[])
    doc = parse(Path(out).read_text())
    rows = {r.split()[0]: r.split()[1:3] for t in ("numeric-0", "categorical-0") for r in body_rows(doc, t)}
    assert rows == {"x": ["192", "4.0%"], "c": ["192", "4.0%"], "na": ["192", "4.0%"], "full": ["200", "0.0%"]}


@pytest.mark.parametrize(
    ("task", "names"),
    [
        ("regression", ["'price'", "evaluation.plot_range", "float_domain", "YAML"]),
        ("multiclass", ["label.task", "evaluation.metrics"]),
        ("binary", ["label.task: binary"]),
    ],
)
def test_advice_names_what_to_change_in_the_yaml(tmp_path: Path, task: str, names: list[str]) -> None:
    """Issue 20, point 6: no advice about an EvalConfig the user never writes; each names a YAML key."""
    html = Path(
        render_evaluation_report(tmp_path / "e.html", title="t", metrics={}, task=task, label_column="price")
    ).read_text()
    (note,) = re.findall(r'<p class="note" id="no-plots">(.*?)</p>', html, re.S)
    assert all(n in unescape(note) for n in names), note
    assert "evaluation.thresholds in the YAML" in html
    assert not re.search(r"EvalConfig|CalibrationPlot|ConfusionMatrixPlot|tfdv\.", html)
    validation = Path(
        render_validation_report(
            tmp_path / "v.html", title="t", statistics=make_stats(), anomalies=[], previous_statistics=make_stats()
        )
    ).read_text()
    assert "validation.drift.enabled" in validation and "tfdv." not in validation


@pytest.mark.slow
def test_the_summary_and_the_report_load_an_evaluation_once(tfma_output: str, tmp_path: Path) -> None:
    """After a run the summary reads the metrics, then the report reads metrics and plots: one TFMA load."""
    from components.evaluation_results import load_result, read_metrics

    load_result.cache_clear()
    summary_metrics = read_metrics(tfma_output, "candidate")
    render_evaluation_report(tmp_path / "evaluation.html", title="model", eval_result_uri=tfma_output)
    info = load_result.cache_info()
    assert (info.misses, info.hits) == (2, 1)  # the candidate once (summary, then report), the baseline once
    assert read_metrics(tfma_output, "candidate") == summary_metrics
