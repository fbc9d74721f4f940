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
