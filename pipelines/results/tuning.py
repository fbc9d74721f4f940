"""A run's tuning record, read back from the Tuner's ``tuner_results`` artifact, and its console lines.

The record (``components.tuner.trial_records``, written as ``trials.json``)::

    {
        "objective": "auc",
        "direction": "max",
        "baseline": {"settings": {...}, "objective": 0.63, "steps": 150, "seconds": 10.9},  # the config's own
        "trials": [
            {"trial": "0", "settings": {...}, "objective": 0.87, "status": "completed", "steps": 150, "seconds": 4.9},
        ],
        "chosen": {"trial": "0", "settings": {...}},  # what the Trainer used
    }

Example:
    >>> lines = tuning_lines(
    ...     {
    ...         "objective": "auc",
    ...         "direction": "max",
    ...         "trials": [],
    ...         "baseline": {"settings": {"trainer.learning_rate": 1e-05}, "objective": 0.6, "seconds": 2.0},
    ...         "chosen": {"trial": "baseline", "settings": {"trainer.learning_rate": 1e-05}},
    ...     }
    ... )
    >>> lines[0]
    'tuning: auc (higher is better), 0 trials and the baseline; chosen: baseline'
"""

from __future__ import annotations

import json
from typing import Any

from components import filesystem as fs
from components.hyperparameters import TRIALS_FILE

__all__ = ["read_tuning", "settings_text", "tuning_lines"]


def read_tuning(uri: str) -> dict[str, Any] | None:
    """The tuning record in a ``TunerResults`` artifact directory; None when it holds none."""
    path = fs.join(uri, TRIALS_FILE)
    if not fs.exists(path):
        return None
    return json.loads(fs.read_text(path))


def settings_text(settings: dict[str, Any]) -> str:
    """``model.hidden_units=[64, 32], trainer.learning_rate=0.003``."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())


def tuning_lines(tuning: dict[str, Any]) -> list[str]:
    """The console's trial table: the baseline and every trial with objective, seconds and settings."""
    better = "higher" if tuning["direction"] == "max" else "lower"
    chosen = tuning["chosen"]["trial"]
    lines = [
        f"tuning: {tuning['objective']} ({better} is better), {len(tuning['trials'])} trials and the baseline; "
        f"chosen: {'baseline' if chosen == 'baseline' else 'trial ' + chosen}",
        f"  {'trial':<9} {tuning['objective']:>10} {'steps':>6} {'seconds':>8}  settings",
    ]
    rows = [("baseline", tuning["baseline"]), *((t["trial"], t) for t in tuning["trials"])]
    for name, row in rows:
        value = "failed" if row["objective"] is None else f"{row['objective']:.4f}"
        mark = "  <- chosen" if name == chosen else ""
        steps = row.get("steps", "")
        lines.append(
            f"  {name:<9} {value:>10} {steps:>6} {row['seconds']:>8.1f}  {settings_text(row['settings'])}{mark}"
        )
    return lines
