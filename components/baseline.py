"""Choosing the evaluation baseline; pure, so it is tested without TFX (see ``components.resolvers``)."""

from __future__ import annotations

from typing import Any

_BLESSED = "blessed"
_CURRENT_MODEL_ID = "current_model_id"


def previous_blessed(candidate_ids: list[int], models: list[Any], blessings: list[Any]) -> tuple[Any, Any] | None:
    """Pick (model, blessing) for the newest blessed model older than every candidate."""
    blessed = {
        b.get_int_custom_property(_CURRENT_MODEL_ID): b for b in blessings if b.get_int_custom_property(_BLESSED) == 1
    }
    newest_allowed = min(candidate_ids) if candidate_ids else None
    for model in sorted(models, key=lambda a: a.id, reverse=True):
        if newest_allowed is not None and model.id >= newest_allowed:
            continue
        if model.id in blessed:
            return model, blessed[model.id]
    return None


def is_self_baseline(candidate_uris: list[str], baseline_uris: list[str]) -> bool:
    """True when the resolved baseline is the candidate itself (a stock resolver on a cached rerun).

    TFX's stock ``LatestBlessedModelStrategy`` (the only model resolver Kubeflow V2 compiles)
    returns the latest blessed model; when the Trainer was cached that is this run's model.
    Comparing a model with itself proves nothing, so the Evaluator drops such a baseline.

    Example:
        >>> is_self_baseline(["gs://b/Trainer/model/7"], ["gs://b/Trainer/model/7"])
        True
    """
    candidates = {uri.rstrip("/") for uri in candidate_uris}
    return any(uri.rstrip("/") in candidates for uri in baseline_uris)
