"""Checks of the world a config points at (``pipelines.data.environment``), apart from loading it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.config import load_config
from pipelines.data.environment import check_environment
from pipelines.data.generators.datasets import DATASETS, LABELS
from pipelines.errors import ConfigError
from tests.unit.config_project import HEADER, ROW, edit, make_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config pointing at a data dir with one CSV (header + a row) and the curated schema."""
    return make_project(tmp_path)


def test_valid_environment_passes(project: Path) -> None:
    check_environment(load_config(project / "c.yaml"))


def test_missing_data_loads_but_fails_the_environment_check(project: Path) -> None:
    """What lets `pipelines.serve` and `pipelines.push` run on a host without the training data."""
    shutil.rmtree(project / "data")
    config = load_config(project / "c.yaml")
    with pytest.raises(ConfigError, match=r"c\.yaml:\d+: data\.source: directory .*/data does not exist") as info:
        check_environment(config)
    assert len(info.value.problems) == 1


@pytest.mark.parametrize(
    ("change", "match"),
    [
        # the curated schema lists the columns
        (
            lambda c: c["features"].update(agee="zscore"),
            r"c\.yaml:\d+: features\.agee: 'agee' is not a feature of schema .*schema\.pbtxt; did you mean 'age'\?",
        ),
        (lambda c: c["features"].pop("city"), r"features: schema features city have no entry; .*`city: drop`"),
        (lambda c: c["label"].update(column="click"), r"label\.column: 'click' is not a feature of schema"),
        # without a curated schema, the CSV header is the list of columns
        (
            lambda c: (c.pop("schema"), c["features"].update(agee="zscore")),
            r"features\.agee: 'agee' is not a column of .*part\.csv; did you mean 'age'\?",
        ),
        (
            lambda c: (c.pop("schema"), c["features"].pop("city")),
            r"features: columns city of .* have no entry; .*`city: drop`",
        ),
        (lambda c: (c.pop("schema"), c["label"].update(column="click")), r"label\.column: 'click' is not a column"),
        # paths
        (
            lambda c: c["data"].update(source="/nonexistent/ads"),
            r"c\.yaml:\d+: data\.source: directory /nonexistent/ads does not exist; generate data with",
        ),
        (
            lambda c: c["data"].update(pattern="*.tsv"),
            r"data\.source: no files match '\*\.tsv' in .*/data; set data\.pattern or add CSV files",
        ),
        (
            lambda c: c["schema"].update(path="/nonexistent/schema.pbtxt"),
            r"schema\.path: schema file /nonexistent/schema\.pbtxt does not exist",
        ),
        (
            lambda c: c["validation"].update(skew={"serving_data": "/nonexistent/logs"}),
            r"validation\.skew\.serving_data: directory /nonexistent/logs does not exist",
        ),
        # user modules
        (
            lambda c: c["trainer"].update(run_fn="nowhere.mod.run_fn"),
            r"trainer\.run_fn: module 'nowhere\.mod' not found",
        ),
        (
            lambda c: c.update(transform={"preprocessing_fn": "nowhere.prep.fn"}),
            r"transform\.preprocessing_fn: module 'nowhere\.prep' not found",
        ),
    ],
)
def test_environment_errors_name_the_key(project: Path, change, match: str) -> None:
    config = load_config(edit(project, change))  # loading checks no file: it succeeds
    with pytest.raises(ConfigError, match=match):
        check_environment(config)


def test_data_source_that_is_a_file(project: Path) -> None:
    config = load_config(project / "c.yaml", [f"data.source={project / 'data' / 'part.csv'}"])
    with pytest.raises(
        ConfigError, match=r"--set data\.source=.*: data\.source: .*part\.csv is a file; data\.source must be"
    ):
        check_environment(config)


def test_every_problem_reported_at_once(project: Path) -> None:
    path = edit(project, lambda c: (c["features"].update(agee="zscore"), c["trainer"].update(run_fn="nowhere.mod.fn")))
    with pytest.raises(ConfigError) as info:
        check_environment(load_config(path))
    assert len(info.value.problems) == 2
    assert "2 problems" in str(info.value)


# --------------------------------------------------------------------------- the missing-data hint


@pytest.mark.parametrize("name", sorted(LABELS))
def test_missing_data_hint_names_the_pipeline_datagen_makes(project: Path, name: str) -> None:
    label = LABELS[name]
    path = edit(
        project,
        lambda c: (
            c["pipeline"].update(name=name),
            c["label"].update(column=label),
            c["data"].update(source="/nonexistent/d"),
            c.update(schema={}),
        ),
    )
    with pytest.raises(
        ConfigError,
        match=rf"data\.source: .*`python -m pipelines\.datagen {name} --rows \d+ "
        rf"--out /nonexistent/d` or point data\.source at your CSV folder",
    ):
        check_environment(load_config(path))


@pytest.mark.parametrize(("name", "label"), [("fraud", "clicked_on_ad"), ("churn", "clicked_on_ad")])
def test_missing_data_hint_without_datagen_for_other_pipelines(project: Path, name: str, label: str) -> None:
    path = edit(project, lambda c: (c["pipeline"].update(name=name), c["data"].update(source="/nonexistent/d")))
    with pytest.raises(
        ConfigError,
        match=r"data\.source: directory /nonexistent/d does not exist; "
        r"point data\.source at the folder that holds your CSV files$",
    ) as info:
        check_environment(load_config(path))
    assert "datagen" not in str(info.value)


def test_every_datagen_dataset_has_a_label() -> None:
    """The hint offers `datagen NAME` exactly for the data sets `pipelines.datagen` can write."""
    assert sorted(LABELS) == sorted(DATASETS)


# --------------------------------------------------------------------------- monthly folders


def _months(project: Path, *names: str, empty: str | None = None) -> Path:
    for name in names:
        (project / "data" / name).mkdir()
        (project / "data" / name / "ads.csv").write_text(HEADER + ROW)
    if empty:
        (project / "data" / empty).mkdir()
        (project / "data" / empty / "_SUCCESS").write_text("")
    return edit(project, lambda c: c["data"].update(pattern="{YYYY}-{MM}/*.csv"))


def test_monthly_folders_resolve_to_the_newest_month(project: Path) -> None:
    from pipelines.data.sources import resolve, tfx_pattern

    path = _months(project, "2026-09", "2026-10")
    config = load_config(path)
    check_environment(config)
    found = resolve(config.data.source, config.data.pattern)
    assert [f.rsplit("/", 2)[-2] for f in found.files] == ["2026-10"]
    assert tfx_pattern(config.data.source, config.data.pattern) == "2026-10/*.csv"
    two = tfx_pattern(config.data.source, config.data.pattern, 2)
    assert two == "2026-[01][09]/*.csv"
    assert sorted(p.relative_to(project / "data").parts[0] for p in (project / "data").glob(two)) == [
        "2026-09",
        "2026-10",
    ]


def test_rolling_months_that_no_pattern_names_exactly_are_refused(project: Path) -> None:
    path = _months(project, "2025-11", "2025-12", "2026-01")
    path = edit(project, lambda c: c["data"].update(rolling_spans=2))  # 2025-12 + 2026-01 -> 202[56]-[01][12]
    with pytest.raises(
        ConfigError, match=r"data\.rolling_spans: data\.rolling_spans 2: .*2025-12, 2026-01.*another span"
    ):
        check_environment(load_config(path))


def test_rolling_spans_that_no_pattern_names_exactly_are_refused(project: Path) -> None:
    for span in (8, 9, 10):  # span-9 + span-10: no glob of one width names both
        (project / "data" / f"span-{span}").mkdir()
        (project / "data" / f"span-{span}" / "ads.csv").write_text(HEADER + ROW)
    path = edit(project, lambda c: c["data"].update(pattern="span-{SPAN}/*.csv", rolling_spans=2))
    with pytest.raises(ConfigError, match=r"data\.rolling_spans: .*the spans span-9, span-10 of"):
        check_environment(load_config(path))


def test_an_empty_newest_month_folder_is_named(project: Path) -> None:
    path = _months(project, "2026-09", empty="2026-10")
    with pytest.raises(
        ConfigError, match=r"data\.pattern: the newest folder .*/data/2026-10 holds no file matching '\*\.csv'; upload"
    ) as info:
        check_environment(load_config(path))
    assert len(info.value.problems) == 1
