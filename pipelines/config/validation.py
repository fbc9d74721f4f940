"""The ``validation`` section: the data gate's severity, tolerated anomaly kinds, drift and skew bounds."""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

from pydantic import Field, field_validator

from pipelines.config.base import Strict as _Strict
from pipelines.config.base import abspath as _abspath

__all__ = ["ANOMALY_ALIASES", "DriftSection", "SkewSection", "ValidationSection"]

# Friendly names for groups of TFDV anomaly kinds, usable in validation.allow.
ANOMALY_ALIASES: dict[str, tuple[str, ...]] = {
    "new_values": ("ENUM_TYPE_UNEXPECTED_STRING_VALUES",),
    "missing_values": (
        "FEATURE_TYPE_LOW_FRACTION_PRESENT",
        "FEATURE_TYPE_LOW_NUMBER_PRESENT",
        "FEATURE_TYPE_NOT_PRESENT",
    ),
    "out_of_range": ("INT_TYPE_BIG_INT", "INT_TYPE_SMALL_INT", "FLOAT_TYPE_BIG_FLOAT", "FLOAT_TYPE_SMALL_FLOAT"),
    "drift": ("COMPARATOR_L_INFTY_HIGH", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"),
}


class DriftSection(_Strict):
    enabled: bool = Field(True, description="Compare with the data of the previous run that passed validation.")
    categorical_threshold: float = Field(0.1, gt=0, description="Default L-infinity bound for categorical features.")
    numeric_threshold: float = Field(0.1, gt=0, description="Default Jensen-Shannon bound for numeric features.")
    features: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict, description="Per-feature bounds.")


class SkewSection(_Strict):
    serving_data: str | None = Field(
        None, description="Directory of serving-log CSV files to compare with training data."
    )
    threshold: float = Field(0.1, gt=0, description="L-infinity / Jensen-Shannon bound for training/serving skew.")

    _abs = field_validator("serving_data")(_abspath)


class ValidationSection(_Strict):
    block_on: Literal["error", "warning", "never"] = Field(
        "error", description="Stop before training on anomalies of this severity or worse ('never': only report)."
    )
    allow: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Anomaly kinds tolerated per feature: TFDV kind names or new_values, missing_values, "
        "out_of_range, drift.",
    )
    drift: DriftSection = Field(default_factory=DriftSection)
    skew: SkewSection = Field(default_factory=SkewSection)
    post_transform: bool = Field(True, description="Also gate on Transform's post-transform anomalies.")

    @field_validator("allow")
    @classmethod
    def _kinds(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from tensorflow_metadata.proto.v0 import anomalies_pb2  # protobuf only: cheap

        known = set(anomalies_pb2.AnomalyInfo.Type.keys()) | set(ANOMALY_ALIASES)
        for feature, kinds in v.items():
            for kind in kinds:
                if kind not in known:
                    guess = difflib.get_close_matches(kind, sorted(known), n=1)
                    hint = f"; did you mean {guess[0]!r}?" if guess else ""
                    raise ValueError(
                        f"{feature}: unknown anomaly kind {kind!r}{hint} "
                        f"(use {', '.join(ANOMALY_ALIASES)} or a TFDV AnomalyInfo.Type name)"
                    )
        return v

    def allowed_kinds(self, feature: str) -> set[str]:
        kinds: set[str] = set()
        for kind in self.allow.get(feature, []):
            kinds.update(ANOMALY_ALIASES.get(kind, (kind,)))
        return kinds
