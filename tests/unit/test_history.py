"""Run history's pure logic: config and metric diffs, statistics shifts, schema diffs, run references,
the engine and "why" columns, the run record and the list/compare text. No pipeline runs (those are
``tests/e2e/test_runs_history.py``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from pipelines.cli import main_guard
from pipelines.config import load_config
from pipelines.errors import ConfigError
from pipelines.history.catalog import RunView, engine_of, format_runs, resolve_run, why
from pipelines.history.compare import (
    Comparison,
    diff_configs,
    diff_metrics,
    diff_schemas,
    flatten,
    format_comparison,
    row_counts,
    statistics_shifts,
)
from pipelines.history.index import index_rows
from pipelines.history.record import read_record, record_path, record_run
from pipelines.results.mlmd import RunContext, RunMetadata
from pipelines.results.summary import RunSummary
from pipelines.runs import main

REPO = Path(__file__).resolve().parents[2]


def config_at(root: Path, *overrides: str):
    return load_config(str(REPO / "configs" / "ad_click.yaml"), [f"pipeline.root={root}", *overrides])


def summary(status: str = "succeeded", **kw) -> RunSummary:
    comps = kw.pop("components", [{"name": "Trainer", "status": "ran", "seconds": 2.0}])
    return RunSummary(status, "ad_click", kw.pop("run_id", "r1"), kw.pop("seconds", 12.5), comps, **kw)


def view(run_id: str, s: RunSummary, **kw) -> RunView:
    defaults = {"started": 1_800_000_000.0, "seconds": s.seconds, "engine": "local", "status": s.status}
    defaults |= {"why": why(s), "span": 0, "blessed": s.blessed, "pushed_version": None, "record": None}
    defaults["headline"] = ("auc", s.metrics.get("auc"))
    defaults.update(kw)
    return RunView(run_id=run_id, summary=s, metadata=RunMetadata(run_id, found=True), **defaults)


# --- config and metric diffs ------------------------------------------------------------------


def test_flatten_names_every_leaf_by_its_dotted_key() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": {}}) == {"a.b": 1, "a.c.d": [1, 2], "e": {}}


def test_diff_configs_names_only_the_changed_keys() -> None:
    a = {"trainer": {"learning_rate": 0.003, "train_steps": 250}, "data": {"source": "x"}}
    b = {"trainer": {"learning_rate": 0.004, "train_steps": 250}, "data": {"source": "x"}, "new": {"k": 1}}
    assert diff_configs(a, b) == [
        {"key": "new.k", "a": "<absent>", "b": 1},
        {"key": "trainer.learning_rate", "a": 0.003, "b": 0.004},
    ]
    assert diff_configs(a, a) == []


def test_diff_metrics_gives_b_minus_a_and_none_where_one_side_lacks_it() -> None:
    d = diff_metrics({"auc": 0.80, "recall": 0.5}, {"auc": 0.85, "precision": 0.6})
    assert d["auc"]["delta"] == pytest.approx(0.05)
    assert d["recall"] == {"a": 0.5, "b": None, "delta": None}
    assert d["precision"] == {"a": None, "b": 0.6, "delta": None}


# --- statistics and schema --------------------------------------------------------------------


def _stats(mean: float, std: float, freqs: dict[str, int], rows: int) -> statistics_pb2.DatasetFeatureStatisticsList:
    out = statistics_pb2.DatasetFeatureStatisticsList()
    d = out.datasets.add(name="train", num_examples=rows)
    num = d.features.add()
    num.path.step.append("income")
    num.num_stats.mean, num.num_stats.std_dev = mean, std
    cat = d.features.add()
    cat.path.step.append("country")
    cat.string_stats.unique = len(freqs)
    for value, n in freqs.items():
        cat.string_stats.top_values.add(value=value, frequency=n)
    return out


def test_statistics_shifts_are_mean_shift_in_std_units_and_l_infinity_largest_first() -> None:
    a = _stats(100.0, 10.0, {"DE": 50, "FR": 50}, 100)
    b = _stats(130.0, 12.0, {"DE": 80, "FR": 20}, 80)
    shifts = statistics_shifts(a, b)
    assert [(s["feature"], s["measure"]) for s in shifts] == [
        ("income", "mean shift (std)"),
        ("country", "L-infinity"),
    ]
    assert shifts[0]["value"] == pytest.approx(3.0) and shifts[1]["value"] == pytest.approx(0.3)
    assert row_counts(a) == {"train": 100} and row_counts(b) == {"train": 80}
    assert [s["value"] for s in statistics_shifts(a, a)] == [0.0, 0.0]


def test_diff_schemas_names_added_removed_and_changed_features() -> None:
    a, b = schema_pb2.Schema(), schema_pb2.Schema()
    a.feature.add(name="age", type=schema_pb2.INT)
    a.feature.add(name="city", type=schema_pb2.BYTES)
    b.feature.add(name="age", type=schema_pb2.FLOAT)
    b.feature.add(name="country", type=schema_pb2.BYTES)
    assert diff_schemas(a, b) == ["added: country", "removed: city", "changed: age"]
    assert diff_schemas(a, a) == []


# --- runs: references, engine, why ------------------------------------------------------------


CONTEXTS = [RunContext(f"r{i}", 100.0 - i, 101.0 - i) for i in range(3)]  # newest first


@pytest.mark.parametrize(("ref", "expected"), [(None, "r0"), ("latest", "r0"), ("latest~2", "r2"), ("r1", "r1")])
def test_a_run_is_its_id_latest_or_latest_n(tmp_path: Path, ref: str | None, expected: str) -> None:
    assert resolve_run(config_at(tmp_path), ref, CONTEXTS).run_id == expected


@pytest.mark.parametrize(("ref", "match"), [("nope", r"no run 'nope' of pipeline"), ("latest~3", r"has 3 run\(s\)")])
def test_a_run_that_does_not_exist_is_a_config_error(tmp_path: Path, ref: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        resolve_run(config_at(tmp_path), ref, CONTEXTS)


def test_runs_show_of_a_missing_run_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = REPO / "configs" / "ad_click.yaml"
    code = main_guard(
        lambda: main(["show", "--config", str(config), "--set", f"pipeline.root={tmp_path}", "--run", "x"])
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: no run 'x' of pipeline 'ad_click'"), err


@pytest.mark.parametrize(
    ("run_id", "record", "properties", "engine"),
    [
        ("manual__2026-01-31T10:00:00+00:00", None, {}, "airflow"),
        ("scheduled__2026-01-31T00:00:00+00:00", None, {}, "airflow"),
        ("2026-01-31T10:00:00.123456", None, {}, "local"),
        ("2026-01-31T10:00:00.123456", {"engine": "vertex"}, {}, "vertex"),
        ("manual__x", None, {"engine": "kubeflow"}, "kubeflow"),
    ],
)
def test_engine_is_recorded_else_inferred_from_the_run_id(run_id: str, record, properties, engine: str) -> None:
    assert engine_of(run_id, record, properties) == engine


def _blocked() -> RunSummary:
    anomaly = {"feature": "age", "kind": "INT_TYPE_BIG_INT", "blocking": True}
    drift = [{"feature": "income", "value": 0.42, "threshold": 0.1, "exceeded": True}]
    comps = [{"name": "DataGate", "status": "failed", "seconds": 0.1}]
    return summary("blocked", components=comps, anomalies=[anomaly], drift=drift)


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        (_blocked(), "DataGate: age: INT_TYPE_BIG_INT (+1 more)"),
        (
            summary(
                "failed", components=[{"name": "Trainer", "status": "failed", "seconds": 1}], error="ValueError: x"
            ),
            "Trainer failed: ValueError: x",
        ),
        (summary(metrics={"auc": 0.8}, failed_thresholds=["auc: below", "auc:"]), "not blessed: auc below the bar"),
        (
            summary(metrics={"auc": 0.8}, blessed=True, pushed={"version": 7, "path": "/m/7"}),
            "blessed, pushed version 7",
        ),
        (
            summary(metrics={"auc": 0.8}, blessed=True, push_reason="infra check failed"),
            "blessed, not pushed: infra check failed",
        ),
        (summary(), "data validated (stopped before training)"),
    ],
)
def test_why_says_how_the_run_ended(s: RunSummary, expected: str) -> None:
    assert why(s) == expected


def test_list_table_has_a_row_per_run_with_engine_status_and_why() -> None:
    ok = summary(metrics={"auc": 0.8733}, blessed=True, pushed={"version": 7, "path": "/m/7"})
    text = format_runs([view("r2", _blocked()), view("r1", ok, pushed_version=7, engine="airflow")])
    header, blocked, good = text.splitlines()
    assert header.split() == [
        "run",
        "started",
        "seconds",
        "engine",
        "status",
        "span",
        "blessed",
        "pushed",
        "auc",
        "why",
    ]
    assert (
        blocked.split()[0] == "r2"
        and " blocked " in blocked
        and blocked.endswith("DataGate: age: INT_TYPE_BIG_INT (+1 more)")
    )
    assert " airflow " in good and " 0.8733 " in good and " 7 " in good and good.endswith("blessed, pushed version 7")
    assert format_runs([]) == "no runs recorded in ML Metadata yet"


# --- record and compare -----------------------------------------------------------------------


def test_record_roundtrip_holds_the_validated_config_and_engine(tmp_path: Path) -> None:
    config = config_at(tmp_path, "trainer.learning_rate=0.004")
    path = record_run(config, summary(run_id="2026-01-31T10:00:00.123456"), engine="local", until=None)
    assert path == record_path(config, "2026-01-31T10:00:00.123456") and ":" not in Path(path).parent.name
    record = read_record(config, "2026-01-31T10:00:00.123456")
    assert record["engine"] == "local" and record["config"]["trainer"]["learning_rate"] == 0.004
    assert record["summary"]["seconds"] == 12.5
    assert json.loads(Path(path).read_text())["run_id"] == "2026-01-31T10:00:00.123456"
    assert read_record(config, "another-run") is None


def test_compare_text_names_the_changed_key_and_the_metric_delta() -> None:
    a = view("r1", summary(metrics={"auc": 0.80}, slices={"male=1": {"auc": 0.70}}, blessed=True))
    b = view("r2", summary(metrics={"auc": 0.85}, slices={"male=1": {"auc": 0.78}}, blessed=True))
    c = Comparison(a, b, [{"key": "trainer.learning_rate", "a": 0.003, "b": 0.004}])
    c.rows = ({"train": 4000}, {"train": 3000})
    c.metrics = {
        "overall": diff_metrics({"auc": 0.80}, {"auc": 0.85}),
        "male=1": diff_metrics({"auc": 0.7}, {"auc": 0.78}),
    }
    text = format_comparison(c)
    assert "  trainer.learning_rate: 0.003 -> 0.004" in text
    assert "rows[train]: 4,000 -> 3,000 (-1,000)" in text
    lines = text.splitlines()
    overall = lines.index("metrics (overall):")
    assert lines[overall + 1].split() == ["auc", "0.8000", "->", "0.8500", "+0.0500"]
    assert lines[overall + 2] == "  slice male=1:" and lines[overall + 3].split()[-1] == "+0.0800"


def test_compare_says_when_a_config_was_not_recorded() -> None:
    a, b = view("manual__1", summary()), view("r2", summary())
    text = format_comparison(Comparison(a, b, None, "config not recorded for manual__1 (not run by pipelines.run)"))
    assert "config not recorded for manual__1" in text and "metrics: neither run has an evaluation" in text


def test_index_links_are_relative_to_the_page(tmp_path: Path) -> None:
    v = view("r1", summary(metrics={"auc": 0.8}))
    page = tmp_path / "site" / "index.html"
    report = tmp_path / "pipeline" / "reports" / "validation-r1.html"
    [row] = index_rows([v], {"r1": {"validation": str(report)}}, str(page))
    assert row["reports"] == [("validation", "../pipeline/reports/validation-r1.html")]
    assert row["value"] == "0.8000" and row["pushed"] == "\u2014"


def test_show_lists_the_trials_of_a_tuned_run_from_its_record(tmp_path: Path) -> None:
    from pipelines.history.catalog import _summary_from_record
    from pipelines.history.show import RunDetails, format_details

    tuning = {
        "objective": "auc",
        "direction": "max",
        "baseline": {"settings": {"trainer.learning_rate": 0.003}, "objective": 0.80, "seconds": 3.0},
        "trials": [{"trial": "0", "settings": {"trainer.learning_rate": 0.01}, "objective": 0.85, "seconds": 4.0}],
        "chosen": {"trial": "0", "settings": {"trainer.learning_rate": 0.01}},
    }
    config = config_at(tmp_path)
    s = summary(run_id="r1", tuning=tuning)
    record_run(config, {**asdict(s), "extra_field": "from a newer version"}, engine="local", until=None)
    s = _summary_from_record(read_record(config, "r1"))
    text = format_details(RunDetails(view("r1", s)))
    assert "tuning: auc (higher is better), 1 trials and the baseline; chosen: trial 0" in text
    assert "config: not recorded" in text  # this view was built without its record
