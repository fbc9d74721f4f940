"""The example-data generator: columns, determinism, streaming, and the documented signal."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines.data.generators import (
    COLUMNS,
    DATASETS,
    LABEL,
    generate,
    generate_ad_click,
    oracle_auc,
    read_csv_columns,
    write_ad_click,
)
from pipelines.data.generators.oracle import roc_auc
from pipelines.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_cli_writes_exact_columns(tmp_path: Path) -> None:
    out = tmp_path / "d"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.datagen", "ad_click", "--rows", "500", "--out", str(out), "--seed", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "ad_click.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert (
        rows[0]
        == COLUMNS
        == [
            "daily_time_spent_on_site",
            "age",
            "area_income",
            "daily_internet_usage",
            "ad_topic_line",
            "city",
            "male",
            "country",
            "timestamp",
            "clicked_on_ad",
        ]
    )
    assert len(rows) == 501
    assert {r[-1] for r in rows[1:]} == {"0", "1"}
    assert all(len(r) == len(COLUMNS) for r in rows)


def test_deterministic_by_seed(tmp_path: Path) -> None:
    a = write_ad_click(str(tmp_path / "a"), 1000, seed=5)[0]
    b = write_ad_click(str(tmp_path / "b"), 1000, seed=5)[0]
    c = write_ad_click(str(tmp_path / "c"), 1000, seed=6)[0]
    assert Path(a).read_bytes() == Path(b).read_bytes()
    assert Path(a).read_bytes() != Path(c).read_bytes()


def test_streams_in_bounded_chunks() -> None:
    sizes = [len(chunk[LABEL]) for chunk in generate_ad_click(120_001, seed=1)]
    assert sizes == [50_000, 50_000, 20_001]


def test_shards_partition_the_same_rows(tmp_path: Path) -> None:
    one = read_csv_columns(write_ad_click(str(tmp_path / "one"), 1001, seed=2)[0])
    shards = [read_csv_columns(p) for p in write_ad_click(str(tmp_path / "many"), 1001, seed=2, shards=3)]
    assert sum(len(s[LABEL]) for s in shards) == 1001
    merged = sorted(tuple(s[c][i] for c in COLUMNS) for s in shards for i in range(len(s[LABEL])))
    assert merged == sorted(tuple(one[c][i] for c in COLUMNS) for i in range(1001))


def test_value_ranges() -> None:
    cols = next(generate_ad_click(20_000, seed=9))
    assert cols["age"].min() >= 19 and cols["age"].max() <= 61
    assert set(np.unique(cols["male"])) == {0, 1}
    assert 0.4 < cols[LABEL].mean() < 0.7
    assert all(len(t) == 19 and t[10] == " " for t in cols["timestamp"][:100])


def test_signal_is_learnable_but_not_trivial() -> None:
    """The documented figures: the rule's AUC is 0.896, no single feature exceeds 0.74."""
    assert oracle_auc(rows=100_000) == pytest.approx(0.896, abs=0.01)
    cols = next(generate_ad_click(50_000, seed=4))
    for name in ("daily_time_spent_on_site", "age", "area_income", "daily_internet_usage", "male"):
        auc = roc_auc(cols[LABEL], cols[name].astype(float))
        assert max(auc, 1 - auc) < 0.75, name


def test_rows_must_be_positive(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.datagen", "ad_click", "--rows", "0", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--rows 0: must be at least 1" in proc.stderr


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        ([0, 1], [0.5, 0.5], 0.5),
        ([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], 1.0),
    ],
)
def test_roc_auc(labels, scores, expected) -> None:
    assert roc_auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


def test_cli_writes_a_messy_table_with_its_oracle(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.datagen", "churn", "--rows", "300", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"wrote 300 rows to \S+churn\.csv \(the generating rule scores 0\.\d{3}\)\n", proc.stdout)
    data = (tmp_path / "churn.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcustomer_id,") and b"\r\n" in data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn.csv"]  # no temporary file left behind


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    write_ad_click(str(tmp_path), 100, seed=1, shards=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ad_click-00000-of-00002.csv", "ad_click-00001-of-00002.csv"]


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.data.generators import ad_click

    def broken(rows: int, seed: int = 0, month: int | None = None):
        yield next(generate_ad_click(10, seed, month))
        raise RuntimeError("disk full")

    monkeypatch.setattr(ad_click, "generate_ad_click", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ad_click.write_ad_click(str(tmp_path), 100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_needs_rows(dataset: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--rows 0: must be at least 1"):
        generate(dataset, str(tmp_path), 0)


def test_tickets_label_follows_words_of_a_free_text_description() -> None:
    """The text transform's bar: the description's words carry the signal, the whole string is almost always new."""
    from pipelines.data.generators.tabular import TICKET_WORDS, tickets

    header, rows, oracle = tickets(np.random.default_rng(0), 3000)
    text = [r[header.index("description")] for r in rows]
    escalated = np.array([r[header.index("escalated")] == "Yes" for r in rows], dtype=int)
    assert len(set(text)) > 0.9 * len(text) and np.median([len(t.split()) for t in text]) >= 3
    has_word = np.array([any(w in t.lower() for w in ("lawyer", "cancel")) for t in text], dtype=int)
    assert escalated[has_word == 1].mean() > escalated[has_word == 0].mean() + 0.2
    assert oracle > 0.75 and TICKET_WORDS["cancel"] > 0 > TICKET_WORDS["resolved"]
    assert "tickets" in DATASETS


# --- monthly drops ---------------------------------------------------------------------------------


def test_months_write_one_folder_per_month_with_their_own_dates(tmp_path: Path) -> None:
    done = generate("ad_click", str(tmp_path), 2000, seed=4, months=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-09", "2026-10", "2026-11"]
    assert [Path(p).parent.name for p in done.paths] == ["2026-09", "2026-10", "2026-11"]
    for path in done.paths:
        cols = read_csv_columns(path)
        assert len(cols[LABEL]) == 2000
        assert {t[:7] for t in cols["timestamp"]} == {Path(path).parent.name}


def test_months_drift_slowly_as_documented(tmp_path: Path) -> None:
    from pipelines.data.generators.ad_click import _NUMERIC, MONTHLY_DRIFT

    done = generate("ad_click", str(tmp_path), 20_000, seed=1, months=4)
    means = {name: [read_csv_columns(p)[name].astype(float).mean() for p in done.paths] for name in MONTHLY_DRIFT}
    for name, per_month in MONTHLY_DRIFT.items():
        std = _NUMERIC[name][1]
        steps = np.diff(means[name]) / std
        # each month moves by the documented amount (clipping at the bounds shrinks it a little)
        assert np.all(np.abs(steps - per_month) < 0.04), (name, steps)
    untouched = [read_csv_columns(p)["age"].astype(float).mean() for p in done.paths]
    assert np.ptp(untouched) < 0.3


def test_months_cli_and_its_limits(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.datagen",
            "ad_click",
            "--rows",
            "50",
            "--months",
            "2",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 month folders" in proc.stdout and (tmp_path / "2026-10" / "ad_click.csv").exists()
    with pytest.raises(ConfigError, match="--months is for ad_click"):
        generate("churn", str(tmp_path / "x"), 10, months=2)
    with pytest.raises(ConfigError, match="--months 0: must be between 1 and 120"):
        generate("ad_click", str(tmp_path / "x"), 10, months=0)
