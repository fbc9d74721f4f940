"""The ``features`` section: one model per transform (``age: zscore`` is shorthand for ``{transform: zscore}``).

The transforms and their config models are the registry's (``components.transforms``);
this module only makes the discriminated union YAML is validated against.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Feature).validate_python({"transform": "hash", "hash_buckets": 64}).model_dump()
    {'transform': 'hash', 'hash_buckets': 64, 'embedding_dim': None}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import Field

from components.transforms import REGISTRY, TRANSFORM_NAMES

__all__ = ["TRANSFORMS", "Feature", "image_features"]

# One class per `transform:` value, told apart by that key.
Feature = Annotated[
    Union[tuple(t.config for t in REGISTRY.values())],  # type: ignore[valid-type]  # noqa: UP007 - built at run time
    Field(discriminator="transform"),
]
TRANSFORMS: tuple[str, ...] = TRANSFORM_NAMES


def image_features(features: Mapping[str, Any]) -> dict[str, float]:
    """``{column: max_bad_fraction}`` of the ``transform: image`` features (ExampleGen reads their files)."""
    return {name: f.max_bad_fraction for name, f in sorted(features.items()) if f.transform == "image"}
