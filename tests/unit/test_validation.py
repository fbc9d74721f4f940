"""The validation gate's pieces that need no TFX: decisions, fix hints, merged splits.

Preflight and span resolution are tested in ``test_preflight.py``."""

from __future__ import annotations

import pytest

from components.gate import Finding, decide, fix_for, merge_splits


def finding(feature: str, kind: str, severity: str = "ERROR", split: str = "train") -> Finding:
    return Finding(split, feature, kind, severity, "desc", "fix")


@pytest.mark.parametrize(
    ("policy", "findings", "passes", "blocking"),
    [
        ({"block_on": "error"}, [finding("age", "FEATURE_TYPE_LOW_FRACTION_PRESENT")], False, ["age"]),
        ({"block_on": "error"}, [finding("age", "X", severity="WARNING")], True, []),
        ({"block_on": "warning"}, [finding("age", "X", severity="WARNING")], False, ["age"]),
        ({"block_on": "never"}, [finding("age", "X")], True, []),
        (
            {"block_on": "error", "allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
            [
                finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"),
                finding("age", "FEATURE_TYPE_LOW_FRACTION_PRESENT"),
            ],
            False,
            ["age"],
        ),
        # an allowance covers a finding only when it covers every reason in it
        (
            {"allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
            [finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES,FEATURE_TYPE_LOW_FRACTION_PRESENT")],
            False,
            ["city"],
        ),
        (
            {"allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
            [finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")],
            True,
            [],
        ),
        ({}, [finding("x", "Y", severity="UNKNOWN")], False, ["x"]),
    ],
)
def test_decide(policy, findings, passes, blocking) -> None:
    assert decide(findings, policy) is passes
    assert [f.feature for f in findings if f.blocking] == blocking
    assert all(not (f.allowed and f.blocking) for f in findings)


@pytest.mark.parametrize(
    ("kind", "feature", "needle"),
    [
        ("FEATURE_TYPE_LOW_FRACTION_PRESENT", "age", "presence.min_fraction"),
        ("ENUM_TYPE_UNEXPECTED_STRING_VALUES", "country", "validation.allow.country: [new_values]"),
        ("INT_TYPE_BIG_INT", "age", "int_domain/float_domain"),
        ("UNEXPECTED_DATA_TYPE,INT_TYPE_NOT_INT_STRING", "age", "wrong type"),
        ("COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", "area_income", "validation.drift.features.area_income"),
        ("SCHEMA_MISSING_COLUMN", "age", "restore the column"),
        ("INT_TYPE_BIG_INT", "clicked_on_ad", "is the label"),
    ],
)
def test_fix_names_what_to_change(kind: str, feature: str, needle: str) -> None:
    assert needle in fix_for(kind, feature, "schemas/x/schema.pbtxt", label="clicked_on_ad")


def test_merge_splits() -> None:
    merged = merge_splits([finding("a", "K", split="train"), finding("a", "K", split="eval"), finding("b", "K")])
    assert [(f.feature, f.split) for f in merged] == [("a", "train,eval"), ("b", "train")]
