"""Fix hints: for each anomaly the gate reports, what to change (schema field, config key or data).

Pure: tested without TFX (``tests/unit/test_gate.py``, ``tests/unit/test_validation.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["DRIFT_KINDS", "feature_types", "fix_for"]

DRIFT_KINDS = {"COMPARATOR_L_INFTY_HIGH", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"}
# Label anomalies that mean "a value outside the label's domain" (answered per task by fix_for).
_LABEL_DOMAIN_KINDS = {
    "INT_TYPE_BIG_INT",
    "INT_TYPE_SMALL_INT",
    "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
    "FLOAT_TYPE_BIG_FLOAT",
    "FLOAT_TYPE_SMALL_FLOAT",
}


def feature_types(schema: Any) -> dict[str, str]:
    """Feature name -> ``categorical`` or ``numeric``, from a tensorflow_metadata Schema proto.

    Strings and integers marked ``is_categorical`` are categorical (a missing one becomes ''),
    other numbers numeric (a missing one becomes the training mean).
    """
    from tensorflow_metadata.proto.v0 import schema_pb2

    types = {}
    for f in schema.feature:
        categorical = f.type == schema_pb2.BYTES or (f.HasField("int_domain") and f.int_domain.is_categorical)
        if f.type in (schema_pb2.BYTES, schema_pb2.INT, schema_pb2.FLOAT):
            types[f.name] = "categorical" if categorical else "numeric"
    return types


def _label_fix(
    feature: str, kinds: set[str], where: str, task: str, classes: Sequence[str], positive: str | None
) -> str:
    """What to do about label values outside the label's domain, worded for the task."""
    if task == "regression":
        if "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in kinds:
            return f"'{feature}' is the label of a regression and must be a number: correct or remove those rows"
        return (
            f"'{feature}' is the label (a number): correct or remove the rows with out-of-range values, "
            f"or widen int_domain/float_domain min/max of {where} if such values are real"
        )
    if task == "multiclass":
        listed = ", ".join(classes) if classes else "the values in label.classes"
        return (
            f"'{feature}' is the label and must be one of its classes ({listed}): correct or remove those "
            f"rows, or add the new class to label.classes and the domain of {where}"
        )
    if positive is not None:
        return (
            f"'{feature}' is the label of a binary task: its values must be '{positive}' (label.positive) "
            f"or the one other class: correct or remove those rows"
        )
    return f"'{feature}' is the label and must stay in its domain (0 or 1): correct or remove those rows"


def _imputed(feature_type: str | None) -> str:
    """What the transform makes of a missing value of a column of ``feature_type`` (see components/transform.py)."""
    if feature_type == "categorical":
        return "the transform then reads a missing value as '', a value of its own"
    if feature_type == "numeric":
        return "the transform then imputes the training mean"
    return "the transform then imputes the training mean for a number, '' (a value of its own) for a string"


def fix_for(
    kind: str,
    feature: str,
    schema_path: str | None,
    label: str | None = None,
    *,
    task: str = "binary",
    classes: Sequence[str] | None = None,
    positive: str | None = None,
    feature_type: str | None = None,
) -> str:
    """What to change: the schema field to relax, the config key, or the data to correct.

    ``task``, ``classes`` and ``positive`` describe the label (``label.task`` etc. of the config),
    so a label value outside its domain is answered with that task's domain. ``feature_type``
    (``categorical`` or ``numeric``, from the schema: :func:`feature_types`) words what the
    transform does with a missing value; None when unknown.

    Example:
        >>> fix_for(
        ...     "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
        ...     "species",
        ...     None,
        ...     "species",
        ...     task="multiclass",
        ...     classes=["heron", "ibis"],
        ... )
        "'species' is the label and must be one of its classes (heron, ibis): correct or remove ..."
    """
    schema = schema_path or "the schema"
    where = f"feature '{feature}' in {schema}"
    kinds = set(kind.split(","))
    if feature == label and kinds & _LABEL_DOMAIN_KINDS:
        return _label_fix(feature, kinds, where, task, list(classes or []), positive)
    if kinds & {"SCHEMA_MISSING_COLUMN", "FEATURE_TYPE_NOT_PRESENT"}:
        return f"the data has no '{feature}': restore the column, or remove it from {schema} and the config's features"
    if "SCHEMA_NEW_COLUMN" in kinds:
        return f"'{feature}' is not in {schema}: remove it from the data, or add it to the schema and features"
    if kinds & {"FEATURE_TYPE_LOW_FRACTION_PRESENT", "FEATURE_TYPE_LOW_NUMBER_PRESENT"}:
        return (
            f"fill the missing values of '{feature}', or lower presence.min_fraction of {where}, "
            f"or allow it: validation.allow.{feature}: [missing_values]"
        )
    if "INVALID_FEATURE_SHAPE" in kinds:
        return (
            f"some rows have no value for '{feature}': fill them, or drop `shape` from {where} to make it "
            f"optional ({_imputed(feature_type)})"
        )
    if kinds & {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}:
        return (
            f"correct the values, or add them to the domain of {where} (or lower its "
            f"distribution_constraints.min_domain_mass), or allow: validation.allow.{feature}: [new_values]"
        )
    if kinds & {"INT_TYPE_BIG_INT", "INT_TYPE_SMALL_INT", "FLOAT_TYPE_BIG_FLOAT", "FLOAT_TYPE_SMALL_FLOAT"}:
        return f"correct the out-of-range values, or widen int_domain/float_domain min/max of {where}"
    if any(
        k.endswith(
            (
                "_NOT_FLOAT",
                "STRING_NOT_FLOAT",
                "NOT_INT",
                "INT_STRING",
                "STRING_EXPECTED",
                "INT_EXPECTED",
                "NOW_FLOAT",
                "NOW_INT",
                "NON_STRING",
                "NOT_STRING",
                "UNKNOWN_TYPE_NUMBER",
            )
        )
        or k.startswith(("FLOAT_TYPE_", "INT_TYPE_", "STRING_TYPE_"))
        for k in kinds
    ):
        return f"'{feature}' holds values of the wrong type: correct the data, or change the type of {where}"
    if kinds & DRIFT_KINDS:
        return (
            f"check the new data of '{feature}' against the previous span; if the change is real, raise "
            f"validation.drift.features.{feature} or rerun with validation.allow.{feature}: [drift]"
        )
    if "SCHEMA_TRAINING_SERVING_SKEW" in kinds:
        return f"serving data differs from training data for '{feature}': fix the serving logs or retrain"
    if kinds & {"FLOAT_TYPE_HAS_NAN", "FLOAT_TYPE_HAS_INF"}:
        return f"remove NaN/inf values of '{feature}' from the data, or allow them in the float_domain of {where}"
    if kinds & {
        "FEATURE_TYPE_HIGH_NUMBER_VALUES",
        "FEATURE_TYPE_LOW_NUMBER_VALUES",
        "FEATURE_TYPE_UNEXPECTED_REPEATED",
    }:
        return f"rows carry the wrong number of values for '{feature}': fix the data, or change value_count of {where}"
    if any(k.endswith("_NUM_EXAMPLES") or k == "NO_DATA_IN_SPAN" for k in kinds):
        return f"the number of examples is not what {schema} expects: check the input files or its dataset_constraints"
    return f"correct the data of '{feature}', or relax {where}"
