"""Live accuracy: delayed labels joined to logged predictions, per served version and label.

Labels are CSV files (one file, or a folder of them, local or ``gs://``) with a header
``request_id,label`` (and ``index`` when a request carried several instances: the instance's
position, default 0). The live metric is the task's headline one, named as TFMA names it so
it sits beside the figure recorded at push time: ``auc`` (binary), ``sparse_categorical_accuracy``
(multiclass), ``mean_absolute_error`` (regression, lower is better). A canary is compared with
``stable`` by a seeded bootstrap interval of the difference.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from components import filesystem as fs
from pipelines.config import PipelineConfig
from pipelines.errors import ConfigError
from pipelines.monitoring.logs import PREDICTION

__all__ = ["CanaryComparison", "compare_canary", "join_labels", "live_metric", "metric_name", "read_labels"]

METRICS = {"binary": ("auc", True), "multiclass": ("sparse_categorical_accuracy", True)}
METRICS["regression"] = ("mean_absolute_error", False)
BOOTSTRAP = 400


def metric_name(task: str) -> tuple[str, bool]:
    """(TFMA name of the task's live metric, whether higher is better)."""
    return METRICS[task]


def read_labels(path: str) -> Any:
    """The labels at ``path`` (a CSV file or a folder of them) as a DataFrame request_id, index, truth.

    Raises:
        ConfigError: no file, or a file without ``request_id`` and ``label`` columns.
    """
    import pandas as pd

    files = sorted(fs.join(path, n) for n in fs.listdir(path) if n.endswith(".csv")) if fs.isdir(path) else [path]
    if not files or not all(fs.exists(f) for f in files):
        raise ConfigError(f"--labels {path}: no such CSV file or folder of CSV files (request_id,label)")
    frames = []
    for file in files:
        reader = csv.DictReader(io.StringIO(fs.read_text(file)))
        if not {"request_id", "label"} <= set(reader.fieldnames or ()):
            raise ConfigError(f"{file}: needs a header with request_id and label columns, found {reader.fieldnames}")
        rows = list(reader)
        frames.append(
            pd.DataFrame(
                {
                    "request_id": [r["request_id"] for r in rows],
                    "index": [int(r.get("index") or 0) for r in rows],
                    "truth": [r["label"] for r in rows],
                }
            )
        )
    return pd.concat(frames, ignore_index=True).drop_duplicates(["request_id", "index"], keep="last")


def _truth(values: Any, config: PipelineConfig) -> Any:
    import numpy as np

    task = config.label.task
    if task == "regression":
        return values.astype(float).to_numpy()
    if task == "multiclass":
        classes = config.label.class_names()
        return np.array([classes.index(v) if v in classes else -1 for v in values], dtype=float)
    positive = str(config.label.positive) if config.label.positive is not None else "1"
    return (values.astype(str) == positive).astype(float).to_numpy()


def join_labels(frame: Any, labels: Any, config: PipelineConfig) -> Any:
    """The logged rows that have a label, with a numeric ``truth`` column."""
    joined = frame.merge(labels, on=["request_id", "index"], how="inner")
    joined["truth"] = _truth(joined["truth"], config)
    return joined


def _auc(truth: Any, score: Any) -> float:
    """Mann-Whitney AUC (ties share their rank); NaN when one class is absent."""
    from scipy.stats import rankdata

    pos = truth == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def live_metric(task: str, truth: Any, prediction: Any) -> float:
    import numpy as np

    if task == "binary":
        return _auc(truth, prediction)
    if task == "multiclass":
        return float(np.mean(truth == prediction))
    return float(np.mean(np.abs(truth - prediction)))


@dataclass(frozen=True)
class CanaryComparison:
    """canary - stable on the same metric, with a bootstrap interval; verdict ahead | behind | level."""

    metric: str
    canary: float
    stable: float
    difference: float
    low: float
    high: float
    confidence: float
    verdict: str


def compare_canary(stable: Any, canary: Any, task: str, confidence: float, seed: int = 0) -> CanaryComparison:
    """Compare two joined groups (``truth``, ``prediction`` columns): ahead/behind when the whole interval is."""
    import numpy as np

    name, higher = metric_name(task)
    rng = np.random.default_rng(seed)
    s_t, s_p = stable["truth"].to_numpy(), stable[PREDICTION].to_numpy()
    c_t, c_p = canary["truth"].to_numpy(), canary[PREDICTION].to_numpy()
    s_value, c_value = live_metric(task, s_t, s_p), live_metric(task, c_t, c_p)
    diffs = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(s_t), len(s_t))
        j = rng.integers(0, len(c_t), len(c_t))
        diffs.append(live_metric(task, c_t[j], c_p[j]) - live_metric(task, s_t[i], s_p[i]))
    diffs = np.array([d for d in diffs if d == d])
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail]) if len(diffs) else (float("nan"),) * 2
    better = (low > 0) if higher else (high < 0)
    worse = (high < 0) if higher else (low > 0)
    verdict = "ahead" if better else "behind" if worse else "level"
    diff = c_value - s_value
    return CanaryComparison(name, c_value, s_value, diff, float(low), float(high), confidence, verdict)
