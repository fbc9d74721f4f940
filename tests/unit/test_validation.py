"""The validation pieces that need no TFX: gate decisions, fix hints, spans, preflight checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.gate import Finding, decide, fix_for, merge_splits
from pipelines.data.preflight import check_file, first_bad_byte
from pipelines.data.sources import resolve

COLS = ["a", "b", "y"]


def finding(feature: str, kind: str, severity: str = "ERROR", split: str = "train") -> Finding:
    return Finding(split, feature, kind, severity, "desc", "fix")


@pytest.mark.parametrize(
    ("policy", "findings", "passes", "blocking"),
    [
        ({"block_on": "error"}, [finding("age", "FEATURE_TYPE_LOW_FRACTION_PRESENT")], False, ["age"]),
        ({"block_on": "error"}, [finding("age", "X", severity="WARNING")], True, []),
        ({"block_on": "warning"}, [finding("age", "X", severity="WARNING")], False, ["age"]),
        ({"block_on": "never"}, [finding("age", "X")], True, []),
        ({"block_on": "error", "allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
         [finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"), finding("age", "FEATURE_TYPE_LOW_FRACTION_PRESENT")],
         False, ["age"]),
        # an allowance covers a finding only when it covers every reason in it
        ({"allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
         [finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES,FEATURE_TYPE_LOW_FRACTION_PRESENT")], False, ["city"]),
        ({"allow": {"city": ["ENUM_TYPE_UNEXPECTED_STRING_VALUES"]}},
         [finding("city", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")], True, []),
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


def test_spans_latest_and_rolling(tmp_path: Path) -> None:
    for span in (1, 2, 10):
        (tmp_path / f"span-{span}").mkdir()
        (tmp_path / f"span-{span}" / "part.csv").write_text("a\n1\n")
    (tmp_path / "span-x").mkdir()
    (tmp_path / "span-x" / "part.csv").write_text("a\n1\n")
    latest = resolve(str(tmp_path), "span-{SPAN}/*.csv")
    assert latest.spans == [10] and latest.files == [str(tmp_path / "span-10" / "part.csv")]
    assert resolve(str(tmp_path), "span-{SPAN}/*.csv", rolling_spans=2).spans == [2, 10]
    assert resolve(str(tmp_path), "*.csv").files == []


def test_date_spans(tmp_path: Path) -> None:
    for day in ("2026-01-31", "2026-02-01"):
        (tmp_path / f"{day}.csv").write_text("a\n1\n")
    found = resolve(str(tmp_path), "{YYYY}-{MM}-{DD}.csv")
    assert found.files == [str(tmp_path / "2026-02-01.csv")]


def write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("data", "kinds", "needle"),
    [
        (b"a,b,y\n1,2,0\n", [], ""),
        (b"\xef\xbb\xbfa,b,y\n1,2,0\n", [], ""),  # a UTF-8 BOM is fine
        (b'a,b,y\n1,"x, with comma\nand newline",0\n', [], ""),  # quoted comma and newline
        (b"", ["EMPTY_FILE"], "is empty"),
        (b"a,b,y\n", ["NO_DATA_ROWS"], "no data rows"),
        (b"a,y\n1,0\n", ["SCHEMA_MISSING_COLUMN"], "header lacks column 'b'"),
        (b"a,b,y,z\n1,2,0,9\n", ["SCHEMA_NEW_COLUMN"], "column 'z' is not in"),
        (b"a,b,y\n1,2,0\n1,2\n1,2,0,4\n", ["WRONG_FIELD_COUNT"], "line 3 has 2 fields, the header has 3; line 4 has 4"),
        (b"a,b,y\n1,2,0\n1,Z\xfcrich,0\n", ["INVALID_UTF8"], "byte 0xfc on line 3"),
    ],
)
def test_check_file(tmp_path: Path, data: bytes, kinds: list[str], needle: str) -> None:
    problems = check_file(write(tmp_path, data), COLS, "the schema")
    assert [p.kind for p in problems] == kinds
    assert needle in " ".join(p.description for p in problems)
    assert all(p.fix for p in problems)


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b,y\n1,2,0\n")
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        assert [p.kind for p in check_file(path, COLS, "x")] == ["UNREADABLE"]
    finally:
        os.chmod(path, 0o644)


def test_first_bad_byte_across_chunk_boundary(tmp_path: Path) -> None:
    good = ("é" * 700_000).encode()  # 1.4 MB of two-byte characters: a boundary cuts one
    path = write(tmp_path, b"a\n" + good + b"\n\xff\n")
    assert first_bad_byte(path) == (3, 0xFF)
