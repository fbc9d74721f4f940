"""The evaluation baseline: the latest blessed model *older than the candidate*.

TFX's ``LatestBlessedModelStrategy`` returns the latest blessed model, which on a
rerun where the Trainer was cached is the candidate itself: the Evaluator then
sees a new input (baseline = itself), misses its cache, compares the model with
itself, blesses it again, and the Pusher pushes the same model as a new version.
Excluding the candidate and anything newer keeps a rerun's inputs identical, so
Evaluator and Pusher are cached too, while a retrained model is still compared
with the model served before it.
"""

from __future__ import annotations

from typing import Any

from tfx.dsl.components.common import resolver

from components.baseline import previous_blessed


class PreviousBlessedModelStrategy(resolver.ResolverStrategy):
    """Resolver strategy; inputs ``candidate`` (this run's model), ``model``, ``model_blessing``."""

    def resolve_artifacts(self, store: Any, input_dict: dict[str, list[Any]]) -> dict[str, list[Any]] | None:
        candidates = input_dict.get("candidate", [])
        found = previous_blessed(
            [a.id for a in candidates], input_dict.get("model", []), input_dict.get("model_blessing", [])
        )
        model, blessing = found if found else (None, None)
        return {
            "candidate": list(candidates),
            "model": [model] if model else [],
            "model_blessing": [blessing] if blessing else [],
        }


class PreviousPassedStatisticsStrategy(resolver.ResolverStrategy):
    """Drift baseline: statistics of the newest earlier data that passed the validation gate.

    Inputs ``candidate`` (this run's statistics), ``statistics`` (all), ``verdicts`` (all
    ValidationVerdicts). Older-than-candidate keeps a cached rerun's inputs identical;
    passed-only keeps a blocked data drop from becoming the next baseline.
    """

    def resolve_artifacts(self, store: Any, input_dict: dict[str, list[Any]]) -> dict[str, list[Any]] | None:
        candidates = input_dict.get("candidate", [])
        newest_allowed = min((a.id for a in candidates), default=None)
        stats = {a.id: a for a in input_dict.get("statistics", [])}
        chosen = []
        for verdict in sorted(input_dict.get("verdicts", []), key=lambda a: a.id, reverse=True):
            sid = verdict.get_int_custom_property("statistics_id")
            if verdict.get_int_custom_property("passed") != 1 or sid not in stats:
                continue
            if newest_allowed is not None and sid >= newest_allowed:
                continue
            chosen = [stats[sid]]
            break
        return {"candidate": list(candidates), "statistics": chosen, "verdicts": []}
