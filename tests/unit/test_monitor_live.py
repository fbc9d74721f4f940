"""Live accuracy: labels read and joined, the AUC, and the canary's bootstrap interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import ConfigError
from pipelines.monitoring.live import compare_canary, live_metric, read_labels


def group(n: int, quality: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n).astype(float)
    score = quality * truth + rng.normal(0, 1, n)
    return pd.DataFrame({"truth": truth, "prediction": score})


def test_auc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    g = group(500, 1.0, 0)
    g.loc[:50, "prediction"] = 0.3  # ties
    assert live_metric("binary", g["truth"].to_numpy(), g["prediction"].to_numpy()) == pytest.approx(
        roc_auc_score(g["truth"], g["prediction"])
    )


def test_worse_canary_is_behind_with_an_interval() -> None:
    c = compare_canary(group(800, 2.0, 1), group(800, 0.2, 2), "binary", 0.95)
    assert c.verdict == "behind" and c.low < c.difference < c.high < 0
    assert c.metric == "auc" and c.stable > c.canary


def test_better_canary_is_ahead_and_equal_ones_level() -> None:
    assert compare_canary(group(800, 0.2, 3), group(800, 2.0, 4), "binary", 0.95).verdict == "ahead"
    same = compare_canary(group(800, 1.0, 5), group(800, 1.0, 6), "binary", 0.95)
    assert same.verdict == "level" and same.low < 0 < same.high


def test_lower_is_better_for_regression() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 1, 400)
    good = pd.DataFrame({"truth": truth, "prediction": truth + rng.normal(0, 0.1, 400)})
    bad = pd.DataFrame({"truth": truth, "prediction": truth + rng.normal(0, 1.0, 400)})
    assert compare_canary(good, bad, "regression", 0.95).verdict == "behind"


def test_labels_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("request_id,label\nr1,1\nr2,0\n")
    (tmp_path / "b.csv").write_text("request_id,index,label\nr3,2,1\nr1,0,0\n")
    df = read_labels(str(tmp_path))
    assert sorted(map(tuple, df[["request_id", "index", "truth"]].values.tolist())) == [
        ("r1", 0, "0"),
        ("r2", 0, "0"),
        ("r3", 2, "1"),
    ]


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "no such CSV file"), ("id,label\nr1,1\n", "needs a header with request_id and label")],
)
def test_bad_labels_name_the_file(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "labels.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=match):
        read_labels(str(path))
